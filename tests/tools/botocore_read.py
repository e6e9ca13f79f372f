#!/usr/bin/env python3
"""Print, as one JSON object, exactly what botocore sees in a pair of AWS files.

    botocore_read.py CONFIG_PATH CREDENTIALS_PATH
    botocore_read.py --batch    (stdin: one "CONFIG_PATH<TAB>CREDENTIALS_PATH" per line;
                                 stdout: one JSON object per input line, in order)

Output (stdout, one line):
    {"profiles": {...}, "sso_sessions": {...}, "services": {...},
     "error": null | "message"}

- The files are located the way the AWS CLI locates them: through the
  AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE environment variables, read
  by botocore.session.Session (the same lookup `aws` itself does).
- The data is `Session.full_config`: the config file through
  botocore.configloader.load_config, then every credentials-file section
  merged over the profile of the same name (credentials win per key).
- A missing file reads as empty; botocore then omits "sso_sessions" and
  "services", which are printed as {} here.
- When botocore rejects either file (ConfigParseError, or any configparser or
  decoding error), "error" is the message and the three maps are empty.
- Secrets are masked: the values of the keys aws_secret_access_key,
  aws_session_token and aws_security_token (whatever the value is, even an
  empty string or a nested block) are printed as "********", and so are
  secret-named sub-keys of a nested block.
- Files are decoded as UTF-8 (Python's UTF-8 mode, PYTHONUTF8=1). When the
  interpreter was not started in UTF-8 mode, the script re-executes itself
  with PYTHONUTF8=1, so the result never depends on the caller's locale.
"""
import os
import sys

if not sys.flags.utf8_mode:
    env = dict(os.environ, PYTHONUTF8="1")
    os.execve(sys.executable,
              [sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env)

import configparser  # noqa: E402
import json  # noqa: E402

SECRET_KEYS = ("aws_secret_access_key", "aws_session_token", "aws_security_token")
MASK = "********"


def read_pair(config_path, credentials_path):
    """What botocore sees in one pair of files, as the dict described above."""
    # Locate the files exactly as the AWS CLI does: through the environment.
    # AWS_PROFILE & co. do not influence full_config, but drop them anyway.
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(var, None)
    os.environ["AWS_CONFIG_FILE"] = config_path
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = credentials_path

    import botocore.exceptions
    import botocore.session

    session = botocore.session.Session()
    # Make sure botocore really took the paths from the environment.
    assert session.get_config_variable("config_file") == config_path
    assert session.get_config_variable("credentials_file") == credentials_path

    result = {"profiles": {}, "sso_sessions": {}, "services": {}, "error": None}
    try:
        full = session.full_config
    except (botocore.exceptions.ConfigParseError, configparser.Error,
            UnicodeDecodeError) as e:
        message = str(e)
        detail = getattr(e, "kwargs", {}).get("error")
        if detail is not None:
            message += " (%s: %s)" % (type(detail).__name__, detail)
        result["error"] = message
    else:
        for member in ("profiles", "sso_sessions", "services"):
            sections = full.get(member, {})
            # keyrack never shows a secret-named key's value, in any kind of section.
            for values in sections.values():
                for key in SECRET_KEYS:
                    if key in values:
                        values[key] = MASK
                # Nor the value of a secret-named sub-key of a nested block (s3 = ...).
                for block in values.values():
                    if isinstance(block, dict):
                        for key in SECRET_KEYS:
                            if key in block:
                                block[key] = MASK
            result[member] = sections
    return result


def main(argv):
    if argv[1:] == ["--batch"]:
        for line in sys.stdin:
            config_path, credentials_path = line.rstrip("\n").split("\t")
            result = read_pair(config_path, credentials_path)
            sys.stdout.write(json.dumps(result, ensure_ascii=True, sort_keys=True) + "\n")
            sys.stdout.flush()
        return 0
    if len(argv) != 3:
        sys.stderr.write("usage: botocore_read.py CONFIG_PATH CREDENTIALS_PATH | --batch\n")
        return 2
    result = read_pair(argv[1], argv[2])
    sys.stdout.write(json.dumps(result, ensure_ascii=True, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
