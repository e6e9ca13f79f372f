#!/usr/bin/env bash
# Generates the differential test corpus: tests/corpus/<case>/{config,credentials,README}.
#
# Every case is defined here and written with printf, so every byte (CRLF, lone
# CR, BOM, invalid UTF-8, tabs, NBSP, form feed, no final newline) is explicit.
# A missing config or credentials file means "this file does not exist".
#
#   bash tests/corpus/make.sh           rewrite every case directory
#   bash tests/corpus/make.sh --check   regenerate into a temp dir and diff
#                                       against the committed corpus
#
# Writing a case:
#   new NAME 'one line for README'   starts a case
#   cfg 'PRINTF FORMAT'              writes NAME/config
#   cred 'PRINTF FORMAT'             writes NAME/credentials
# The text is a printf FORMAT: \n \r \t \xHH are escapes, a literal % is %%,
# a literal backslash is \\.
#
# Keys and secrets below are fake (AWS documentation examples).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode="${1:-write}"
case "$mode" in
    write) out="$here" ;;
    --check) out="$(mktemp -d)"; trap 'rm -rf -- "$out"' EXIT ;;
    *) echo "usage: make.sh [--check]" >&2; exit 2 ;;
esac

if [ "$mode" = write ]; then
    # Remove the old cases (directories holding a README) before regenerating.
    for d in "$here"/*/; do
        [ -f "$d/README" ] && rm -rf -- "$d"
    done
fi

CASE=
new() {
    CASE="$out/$1"
    [ -e "$CASE" ] && { echo "make.sh: duplicate case $1" >&2; exit 1; }
    mkdir -p -- "$CASE"
    printf '%s\n' "$2" > "$CASE/README"
}
cfg() { printf -- "$1" > "$CASE/config"; }
cred() { printf -- "$1" > "$CASE/credentials"; }

# Fake key material.
K1=AKIAIOSFODNN7EXAMPLE
S1=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
K2=AKIAEXAMPLE000000001
S2=je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY
K3=ASIAEXAMPLE000000003
T3=IQoJb3JpZ2luX2VjEXAMPLETOKENfakeFAKEfake0000000000000000000000
CREDS="[default]\naws_access_key_id = $K1\naws_secret_access_key = $S1\n"

# --------------------------------------------------------------- baseline
new basic-pair 'an ordinary config plus credentials pair: default and one named profile in each'
cfg "[default]\nregion = us-east-1\noutput = json\n\n[profile dev]\nregion = eu-west-1\nsource_profile = default\nrole_arn = arn:aws:iam::123456789012:role/Dev\n"
cred "$CREDS\n[dev]\naws_access_key_id = $K2\naws_secret_access_key = $S2\n"

new both-absent 'neither file exists: no profiles, no error'

new config-only 'only the config file exists (credentials missing)'
cfg "[default]\nregion = us-east-2\n\n[profile ci]\noutput = text\n"

new credentials-only 'only the credentials file exists: botocore omits sso_sessions/services, read as {}'
cred "$CREDS\n[prod]\naws_access_key_id = $K2\naws_secret_access_key = $S2\naws_session_token = $T3\n"

new empty-files 'both files exist with zero bytes'
cfg ''
cred ''

new whitespace-only-files 'files holding only spaces, tabs and blank lines'
cfg '   \n\t\n\n  \t  \n'
cred '\n\n \n'

new comment-only-files 'files holding only # and ; comment lines (some indented)'
cfg '# a comment\n; another\n   # indented comment\n\t; tab-indented comment\n'
cred '# only comments here\n#[default]\n;aws_access_key_id = nothing\n'

# --------------------------------------------------------------- comments
new inline-hash-comment 'botocore keeps " # note" after a value as part of the value'
cfg '[default]\nregion = us-east-1 # note\noutput = json    #   spaced note\n'

new inline-semicolon-comment 'botocore keeps " ; note" after a value as part of the value'
cfg '[default]\nregion = us-west-2 ; note\n'
cred "[default]\naws_access_key_id = $K1 ; my key\naws_secret_access_key = $S1\n"

new inline-comment-no-space 'a # or ; glued to the value is part of the value too'
cfg '[default]\nregion = us-west-2#note\noutput = text;note\n'

new sso-start-url-hash 'an SSO start URL ending in #/ keeps its fragment'
cfg '[sso-session corp]\nsso_start_url = https://my-sso-portal.awsapps.com/start#/\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n\n[profile sso-dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = ReadOnly\n'

new comments-leading-whitespace 'full-line # and ; comments with leading spaces/tabs between keys are ignored'
cfg '[default]\n  # indented hash comment\nregion = eu-north-1\n\t; tab-indented semicolon comment\noutput = yaml\n    ;\n#\n'

new comment-in-continuation 'an indented comment line inside a multi-line value is dropped from the value'
cfg '[default]\nnote = first\n  second\n  # not part of the value\n  ; nor this\n  third\n'

new comment-after-header 'a comment after a section header: [profile x] # trailing comment'
cfg '[profile x] # trailing comment\nregion = ap-south-1\n[profile y] ; semicolon comment\nregion = ap-east-1\n'

new comment-with-delimiters 'comment lines containing = and : and [x] stay comments'
cfg '[default]\n# region = wrong\n; [profile ghost]\n#output: wrong\nregion = right\n'

# --------------------------------------------------------------- delimiters
new colon-delimiter 'key: value is valid (: is a delimiter like =)'
cfg '[default]\nregion: eu-west-1\noutput:json\ncli_pager :less\n'

new colon-before-equals 'key:value=x splits at the first delimiter (:), key=value:x at =' 
cfg '[default]\nkey:value=x\nk2=value:x\nk3 := y\nk4 =: z\n'

new role-arn-colons 'a value full of colons after = stays whole; key: arn:... splits at the first colon'
cfg '[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile: default\nmfa_serial: arn:aws:iam::123456789012:mfa/user\n'

new double-delimiter 'region==x gives value =x; region = = x gives "= x"'
cfg '[default]\nregion==x\noutput = = x\n'

new key-with-spaces 'a key with inner spaces keeps them; spaces around the delimiter are trimmed'
cfg '[default]\nmy key = v1\nregion    =     us-east-1    \n'

new tabs-around-delimiter 'tabs around the delimiter and at line end are trimmed'
cfg '[default]\nregion\t=\tus-west-1\t\noutput\t:\tjson\n'

new empty-values 'empty values: "k =", "k=", "k =   " are all empty strings'
cfg '[default]\nregion =\noutput=\nca_bundle =   \ncli_pager:\n'

# --------------------------------------------------------------- rejected files
new line-without-delimiter 'a line with no = or : inside a section: botocore rejects the file'
cfg '[default]\nregion = us-east-1\njustsomewords\n'

new empty-key 'a line "= value" (empty key) makes botocore reject the file'
cfg '[default]\n= value\n'

new empty-key-colon 'a line ": value" (empty key) makes botocore reject the file'
cred "$CREDS: value\n"

new key-before-section-config 'a key before any section header: the config file is rejected'
cfg 'region = us-east-1\n[default]\noutput = json\n'

new key-before-section-credentials 'a key before any section header: the credentials file is rejected'
cfg '[default]\nregion = us-east-1\n'
cred "aws_access_key_id = $K1\n$CREDS"

new comments-before-section 'blank and comment lines before the first header are fine'
cfg '\n# header comment\n\n; more\n[default]\nregion = us-east-1\n'

new indented-text-before-section 'an indented key before any header is still "before any section": rejected'
cfg '  region = us-east-1\n[default]\n'

new duplicate-section-config 'the same [profile x] twice in config: the file is rejected'
cfg '[profile x]\nregion = us-east-1\n\n[profile x]\noutput = json\n'

new duplicate-section-credentials 'the same [default] twice in credentials: the file is rejected'
cfg '[default]\nregion = us-east-1\n'
cred "$CREDS\n[default]\naws_session_token = $T3\n"

new duplicate-key-case-insensitive 'REGION then region in one section: duplicate key, the file is rejected'
cfg '[default]\nREGION = us-east-1\nregion = us-west-2\n'

new duplicate-key-exact 'the same key twice in one section: rejected'
cfg '[profile a]\noutput = json\noutput = text\n'

new duplicate-key-credentials 'a duplicate key in credentials rejects the pair even though config is fine'
cfg '[default]\nregion = us-east-1\n'
cred "$CREDS""aws_access_key_id = $K2\n"

new duplicate-key-across-sections 'the same key in two different sections is fine'
cfg '[default]\nregion = a\n[profile b]\nregion = b\n'

new empty-brackets '[] is not a header (needs a name) and has no delimiter: rejected'
cfg '[default]\nregion = us-east-1\n[]\n'

new unclosed-header '[profile x without ] is not a header and has no delimiter: rejected'
cfg '[default]\nregion = us-east-1\n[profile x\n'

new bom-config 'UTF-8 BOM at the start of config: botocore rejects the file'
cfg '\xef\xbb\xbf[default]\nregion = us-east-1\n'

new bom-credentials 'UTF-8 BOM at the start of credentials: botocore rejects it'
cfg '[default]\nregion = us-east-1\n'
cred "\xef\xbb\xbf$CREDS"

new bom-only 'a config file that is only a BOM (3 bytes): rejected'
cfg '\xef\xbb\xbf'

new bom-before-comment 'BOM followed by a comment line: the BOM hides the comment marker, rejected'
cfg '\xef\xbb\xbf# comment\n[default]\nregion = us-east-1\n'

new bom-mid-file 'a BOM at the start of a key line in the middle of the file becomes part of the key name'
cfg '[default]\n\xef\xbb\xbfregion = us-east-1\n'

new invalid-utf8-value 'a Latin-1 byte (0xE9) in a value: the file is rejected'
cfg '[default]\nregion = us-east-1\ndescription = caf\xe9\n'

new invalid-utf8-comment 'an invalid UTF-8 byte inside a comment still rejects the credentials file'
cfg '[default]\nregion = us-east-1\n'
cred "# caf\xe9 key\n$CREDS"

new invalid-utf8-section-name 'an invalid UTF-8 byte in a section header: rejected'
cfg '[profile caf\xe9]\nregion = us-east-1\n'

new invalid-utf8-truncated-at-eof 'a multi-byte sequence cut off at end of file (no final newline): rejected'
cfg '[default]\nregion = us-east-1\nname = \xe2\x82'

new invalid-utf8-overlong 'an overlong UTF-8 encoding (C0 AF) is invalid: rejected'
cfg '[default]\npath = a\xc0\xafb\n'

new invalid-utf8-surrogate 'a UTF-8-encoded surrogate (ED A0 80) is invalid: rejected'
cfg '[default]\nname = \xed\xa0\x80\n'

new valid-noncharacter 'U+FFFF (EF BF BF) is valid UTF-8 and kept in the value'
cfg '[default]\nname = a\xef\xbf\xbfb\n'

new nul-byte-in-value 'a NUL byte inside a value is kept as a character'
cfg '[default]\nname = a\x00b\nregion = us-east-1\n'

# --------------------------------------------------------------- line endings
new crlf-both 'CRLF line endings in both files'
cfg '[default]\r\nregion = us-east-1\r\noutput = json\r\n\r\n[profile x]\r\nregion = eu-west-1\r\n'
cred "[default]\r\naws_access_key_id = $K1\r\naws_secret_access_key = $S1\r\n"

new lone-cr 'lone CR line endings (old Mac) are line breaks'
cfg '[default]\rregion = us-east-1\routput = json\r\r[profile x]\rregion = eu-west-1\r'

new mixed-endings 'LF, CRLF and lone CR mixed in one file'
cfg '[default]\r\nregion = us-east-1\routput = json\n[profile x]\r\nregion = eu-west-1\r'

new crlf-nested 'a nested s3 block with CRLF endings'
cfg '[default]\r\ns3 =\r\n  max_concurrent_requests = 20\r\n  addressing_style = path\r\nregion = us-east-1\r\n'

new lone-cr-continuation 'a multi-line value with lone CR endings'
cfg '[default]\rnote = one\r  two\r  three\rregion = us-east-1\r'

new crlf-blank-in-value 'a CRLF blank line inside a multi-line value is kept as an empty line'
cfg '[default]\r\nnote = one\r\n\r\n  two\r\n'

new no-final-newline 'neither file ends with a newline'
cfg '[default]\nregion = us-east-1'
cred "[default]\naws_access_key_id = $K1\naws_secret_access_key = $S1"

new no-final-newline-header 'the file ends right after a section header, no newline'
cfg '[default]\nregion = us-east-1\n[profile empty]'

new no-final-newline-nested 'the file ends inside a nested block, no newline'
cfg '[default]\ns3 =\n  addressing_style = virtual'

new no-final-newline-crlf-cr 'CRLF file whose last line ends with a lone CR'
cfg '[default]\r\nregion = us-east-1\r\noutput = json\r'

# --------------------------------------------------------------- section headers
new spaced-default-header '[ default ] is a section named " default ", not the default profile'
cfg '[ default ]\nregion = us-east-1\n'

new spaced-default-credentials '[ default ] in credentials is a profile literally named " default "'
cred "[ default ]\naws_access_key_id = $K1\naws_secret_access_key = $S1\n"

new profile-extra-spaces '[profile   x ] is shell-split to the profile x'
cfg '[profile   x ]\nregion = us-east-1\n'

new profile-double-quoted '[profile "a b"] is the profile named "a b"'
cfg '[profile "a b"]\nregion = us-east-1\n'

new profile-single-quoted "[profile 'q'] is the profile q"
cfg "[profile 'q']\nregion = us-east-1\n"

new profile-three-words '[profile a b] splits into 3 words: ignored'
cfg '[profile a b]\nregion = us-east-1\n[profile ok]\nregion = us-west-1\n'

new profile-no-space '[profilex] (one word) is ignored'
cfg '[profilex]\nregion = us-east-1\n'

new profile-dash-prefix '[profile-foo bar]: starts with "profile", splits into 2 words, so it is profile "bar"'
cfg '[profile-foo bar]\nregion = us-east-1\n'

new profiles-plural-prefix '[profiles bar] and [profilefoo baz] are profiles "bar" and "baz" (prefix match + 2 words)'
cfg '[profiles bar]\nregion = us-east-1\n[profilefoo baz]\nregion = us-east-2\n'

new profile-bare '[profile] and [profile ] (no name) are ignored'
cfg '[profile]\nregion = us-east-1\n[profile ]\noutput = json\n'

new profile-uppercase-prefix '[PROFILE x] and [Profile y] are not profiles in config'
cfg '[PROFILE x]\nregion = us-east-1\n[Profile y]\nregion = us-east-2\n'

new profile-empty-quoted-name '[profile ""] is a profile whose name is the empty string'
cfg '[profile ""]\nregion = us-east-1\n'

new profile-unbalanced-quote '[profile "a b] cannot be shell-split: ignored'
cfg '[profile "a b]\nregion = us-east-1\n[profile ok]\nregion = us-west-1\n'

new profile-backslash-escape '[profile a\ b] shell-unescapes to "a b"; [profile "c\"d"] is c"d'
cfg '[profile a\\ b]\nregion = us-east-1\n[profile "c\\"d"]\nregion = us-east-2\n'

new profile-mixed-quotes 'a header mixing double quotes, a bare part and single quotes shell-joins into the profile "abc"'
cfg "[profile \"a\"b'c']\nregion = us-east-1\n"

new profile-hash-in-name '[profile a#b] keeps the # (no shell comments)'
cfg '[profile a#b]\nregion = us-east-1\n'

new header-tab-separator '[profile<TAB>x] splits on the tab: profile x'
cfg '[profile\tx]\nregion = us-east-1\n'

new header-nbsp-separator '[profile<NBSP>x]: NBSP is not a shell separator, one word, ignored'
cfg '[profile\xc2\xa0x]\nregion = us-east-1\n'

new header-leading-space-inside '[ profile x] does not start with "profile": ignored'
cfg '[ profile x]\nregion = us-east-1\n'

new header-trailing-garbage '[profile x]region = us-east-1: text after ] is ignored, the key is lost'
cfg '[profile x]region = us-east-1\noutput = json\n'

new header-bracket-inside '[profile a]b] is profile "a]b" (header runs to the last ])'
cfg '[profile a]b]\nregion = us-east-1\n'
cred "[a]b]\naws_access_key_id = $K1\naws_secret_access_key = $S1\n"

new header-then-equals '[x]=y is a section header [x], not a key'
cfg '[default]\nregion = us-east-1\n[profile x]=y\noutput = json\n'

new broken-header-with-equals '"[profile broken = 1" is a key named "[profile broken" in the current section'
cfg '[default]\nregion = us-east-1\n[profile broken = 1\n'

new header-whitespace-around 'headers with leading/trailing whitespace on the line are still headers (keys at the same indentation)'
cfg '   [default]   \n   region = us-east-1\n   [profile x]\t\n   region = us-west-2\n'

new continuation-indented-header-duplicate 'a tab-indented [profile x] under an unindented key continues the value, so the next region is a duplicate key: rejected'
cfg '[default]\nregion = us-east-1\n\t[profile x]\nregion = us-west-2\n'

new indented-header-after-header 'an indented header right after a header (no key yet) is a header, not a continuation'
cfg '[default]\n  [profile x]\nregion = us-west-2\n'

new profile-name-case 'profile names are case-sensitive: MyProd and myprod are two profiles'
cfg '[profile MyProd]\nregion = us-east-1\n[profile myprod]\nregion = us-west-2\n'

new profile-name-special-chars 'profile names with @ . / : + % _ -'
cfg '[profile user@example.com]\nregion = a\n[profile team/dev.v2]\nregion = b\n[profile arn:aws:x]\nregion = c\n[profile a+b]\nregion = d\n[profile 100%%]\nregion = e\n[profile snake_case-name]\nregion = f\n'

new profile-name-unicode 'a profile name with non-ASCII letters'
cfg '[profile d\xc3\xa9v-\xe6\x97\xa5\xe6\x9c\xac]\nregion = us-east-1\n'

new other-sections '[plugins], [preview] and other sections are not profiles'
cfg '[plugins]\ncli_legacy_plugin_path = /opt/plugins\n[preview]\ncloudfront = true\n[default]\nregion = us-east-1\n[foobar]\nx = 1\n'

new look-alike-sections '[profiles], [sso_sessions], [services] and [sso-session] without a name are ignored'
cfg '[profiles]\na = 1\n[sso_sessions]\nb = 2\n[services]\nc = 3\n[sso-session]\nd = 4\n[default]\nregion = us-east-1\n'

new empty-sections 'sections without keys give empty maps'
cfg '[default]\n[profile empty]\n[sso-session s]\n[services svc]\n'
cred '[nothing]\n'

# --------------------------------------------------------------- default profile
new default-then-profile-default '[default] then [profile default]: the later section wins wholesale'
cfg '[default]\nregion = us-east-1\noutput = json\n\n[profile default]\nregion = eu-west-1\n'

new profile-default-then-default '[profile default] then [default]: the later section wins wholesale'
cfg '[profile default]\nregion = eu-west-1\ncli_pager =\n\n[default]\nregion = us-east-1\n'

new profile-default-two-spellings '[profile  default] then [profile default]: two sections, the later wins'
cfg '[profile  default]\nregion = eu-west-1\noutput = text\n[profile default]\nregion = us-east-1\n'

new profile-default-only '[profile default] alone is the default profile'
cfg '[profile default]\nregion = ap-northeast-1\n'

new same-profile-two-spellings '[profile x] and [profile  x] are different sections: no error, the later replaces the earlier'
cfg '[profile x]\nregion = us-east-1\noutput = json\n[profile  x]\nregion = us-west-2\n'

new default-capitalized '[Default] in config is ignored; in credentials it is a profile named "Default"'
cfg '[Default]\nregion = us-east-1\n'
cred "[Default]\naws_access_key_id = $K1\naws_secret_access_key = $S1\n"

# --------------------------------------------------------------- [DEFAULT] (configparser defaults)
new DEFAULT-upper-config '[DEFAULT] keys are inherited by every section of config (profiles, sso-session, services)'
cfg '[DEFAULT]\nregion = us-gov-west-1\ncli_pager =\n[default]\noutput = json\n[profile x]\nregion = eu-west-1\n[sso-session s]\nsso_region = us-east-1\n[services svc]\nother = 1\n'

new DEFAULT-upper-credentials '[DEFAULT] in credentials is inherited by every credentials section'
cfg '[profile y]\nregion = us-east-1\n'
cred "[DEFAULT]\naws_access_key_id = $K1\naws_secret_access_key = $S1\n[default]\n[x]\naws_access_key_id = $K2\n[y]\nregion = eu-central-1\n"

new DEFAULT-only '[DEFAULT] alone defines no profile'
cfg '[DEFAULT]\nregion = us-east-1\n'
cred "[DEFAULT]\naws_access_key_id = $K1\naws_secret_access_key = $S1\n"

new DEFAULT-twice '[DEFAULT] may appear twice (no duplicate-section error); its keys merge'
cfg '[DEFAULT]\nregion = us-east-1\n[profile a]\nx = 1\n[DEFAULT]\noutput = json\n'

new DEFAULT-duplicate-key 'the same key twice across two [DEFAULT] sections: rejected'
cfg '[DEFAULT]\nregion = us-east-1\n[profile a]\nx = 1\n[DEFAULT]\nregion = us-west-2\n'

new DEFAULT-nested 'a nested block in [DEFAULT] is inherited as a nested block'
cfg '[DEFAULT]\ns3 =\n  addressing_style = path\n[default]\nregion = us-east-1\n[profile b]\ns3 =\n  use_accelerate_endpoint = true\n'

new DEFAULT-does-not-cross-files '[DEFAULT] in config does not reach credentials-only profiles'
cfg '[DEFAULT]\nregion = us-east-1\n[default]\n'
cred "$CREDS\n[only-creds]\naws_access_key_id = $K2\naws_secret_access_key = $S2\n"

# --------------------------------------------------------------- merging the two files
new profile-header-in-credentials '[profile x] in credentials is a profile literally named "profile x"'
cfg '[profile x]\nregion = us-east-1\n'
cred "[profile x]\naws_access_key_id = $K1\naws_secret_access_key = $S1\n"

new default-only-in-credentials '[default] only in credentials: default profile comes from credentials alone'
cfg '[profile other]\nregion = us-east-1\n'
cred "$CREDS"

new credentials-override-config 'credentials win per key over config, region included; other config keys survive'
cfg "[default]\nregion = us-east-1\noutput = json\naws_access_key_id = $K2\n[profile p]\nregion = eu-west-1\n"
cred "[default]\nregion = ap-southeast-2\naws_access_key_id = $K1\naws_secret_access_key = $S1\n[p]\nregion = sa-east-1\n"

new keyid-creds-secret-config 'key id in credentials, secret only in config: full_config just merges both'
cfg "[profile half]\naws_secret_access_key = $S1\nregion = us-east-1\n"
cred "[half]\naws_access_key_id = $K1\n"

new credentials-sso-section-name '[sso-session x] and [services y] in credentials are plain profiles with those names'
cred "[sso-session x]\nsso_region = us-east-1\n[services y]\nendpoint_url = http://localhost:4566\n"

new credentials-nested-replaces 'a nested s3 block in credentials replaces the config one wholesale (no deep merge)'
cfg '[default]\ns3 =\n  addressing_style = path\n  max_bandwidth = 50MB/s\n'
cred "$CREDS""s3 =\n  use_accelerate_endpoint = true\n"

new credentials-uppercase-keys 'upper-case keys in credentials are lower-cased, secrets masked by the lower-case name'
cred "[default]\nAWS_ACCESS_KEY_ID = $K1\nAWS_SECRET_ACCESS_KEY = $S1\nAws_Session_Token = $T3\n"

new secrets-masked 'aws_secret_access_key, aws_session_token, aws_security_token are masked wherever they come from'
cfg "[profile c]\naws_secret_access_key = $S2\naws_security_token = $T3\n"
cred "[default]\naws_access_key_id = $K3\naws_secret_access_key = $S1\naws_session_token = $T3\naws_security_token = $T3\n"

new secret-empty-and-nested 'an empty secret and a secret written as a nested block are masked too'
cred "[empty]\naws_access_key_id = $K1\naws_secret_access_key =\n[nested]\naws_access_key_id = $K2\naws_secret_access_key =\n  a = b\n"

new secret-like-keys-not-masked 'only the exact secret key names are masked (in profiles, sso-sessions and services alike); look-alikes are shown'
cfg "[default]\naws_secret_access_key_id = visible\nmy_aws_session_token = visible\n[sso-session s]\naws_session_token = visible\n[services v]\naws_secret_access_key = visible\n"

# --------------------------------------------------------------- continuation lines
new continuation-deeper 'lines indented deeper than the key continue its value (multi-line string)'
cfg '[default]\nnote = first line\n  second line\n    third line\nregion = us-east-1\n'

new continuation-equal-indent 'indented keys at equal indentation are separate keys, not continuations'
cfg '[default]\n  region = us-east-1\n  output = json\n'

new continuation-indented-key 'an indented "k = v" line under a key continues that value'
cfg '[default]\nregion = us-east-1\n  output = json\n'

new continuation-indented-header 'an indented "[profile y]" under a key continues that value, it is no header'
cfg '[default]\nregion = us-east-1\n  [profile y]\n  output = json\n'

new continuation-tab-vs-spaces 'a tab counts as one column: tab-indented key, 2-space line is deeper (continuation); 4-space key, tab line is shallower (new key)'
cfg '[default]\n\tnote = a\n  b\n[profile x]\n    output = json\n\tregion = us-east-1\n'

new continuation-decreasing-indent 'continuation indent is compared with the key line, not the previous line'
cfg '[default]\nnote = a\n    b\n  c\n d\nregion = us-east-1\n'

new continuation-shallower-error 'a line indented less than an indented key is no continuation; without a delimiter it is rejected'
cfg '[default]\n    note = a\n  b\n'

new continuation-blank-line 'a blank line inside a multi-line value is kept (empty line in the value)'
cfg '[default]\nnote = a\n\n  b\n\n\n  c\nregion = us-east-1\n'

new continuation-blank-then-indent 'a key, a blank line, then an indented line: still a continuation'
cfg '[default]\nregion = us-east-1\n\n    more\n'

new continuation-trailing-blank-lines 'blank lines at the end of a multi-line value are dropped'
cfg '[default]\nnote = a\n  b\n\n\n\n[profile x]\nregion = us-east-1\n'

new continuation-after-empty-value 'k = then an indented line without =: read as a nested block whose sub-line has no =, rejected'
cfg '[default]\nnote =\n  just words\n'

new continuation-whitespace-only-line 'whitespace-only lines inside a multi-line value count as blank lines'
cfg '[default]\nnote = a\n   \n\t\n  b\n'

new continuation-trailing-whitespace 'continuation lines are stripped on both sides'
cfg '[default]\nnote = a   \n     b   \t\n'

new continuation-header-resets 'a header ends a value; an indented line right after a header is a key'
cfg '[default]\nregion = us-east-1\n[profile x]\n  region = us-west-1\n  output = json\n'

# --------------------------------------------------------------- nested blocks
new nested-s3-mixed-case 's3 = then indented k = v lines: a nested block; sub-keys keep their case'
cfg '[default]\nregion = us-east-1\ns3 =\n  Max_Concurrent_Requests = 20\n  signatureVersion = s3v4\n  ADDRESSING_STYLE = path\n'

new nested-blank-and-comments 'blank lines and comment lines inside a nested block are skipped'
cfg '[default]\ns3 =\n  max_queue_size = 1000\n\n  # a comment\n  ; another\n\n  multipart_threshold = 64MB\noutput = json\n'

new nested-subline-without-equals 'a nested sub-line without = rejects the file'
cfg '[default]\ns3 =\n  addressing_style = path\n  use_accelerate_endpoint\n'

new nested-subline-colon 'a nested sub-line with ":" only (no =) rejects the file'
cfg '[default]\ns3 =\n  addressing_style: path\n'

new nested-subline-colon-and-equals 'a nested sub-line "a: b = c" splits at = (key "a: b")'
cfg '[default]\ns3 =\n  a: b = c\n'

new nested-equals-in-subvalue 'a nested sub-line "a = b = c" gives a: "b = c"'
cfg '[default]\ns3 =\n  a = b = c\n  endpoint_url = https://x.example/?q=1\n'

new nested-duplicate-subkey 'a duplicate sub-key in a nested block: the later wins, no error'
cfg '[default]\ns3 =\n  addressing_style = path\n  addressing_style = virtual\n'

new nested-empty-subkey 'a nested sub-line "= x" gives the empty sub-key ""'
cfg '[default]\ns3 =\n  = x\n'

new nested-empty-subvalue 'a nested sub-line "a =" gives a: ""'
cfg '[default]\ns3 =\n  a =\n  b=\n'

new nested-inline-hash 'a # after a nested value is part of the value'
cfg '[default]\ns3 =\n  addressing_style = path # comment\n'

new nested-spacing 'nested sub-lines: no spaces around =, tabs, deeper indents'
cfg '[default]\ns3 =\n\ta=1\n  b  =  2\n        c\t=\t3\n'

new nested-value-then-indented 's3 = x followed by indented k = v lines is one multi-line string, not a block'
cfg '[default]\ns3 = x\n  addressing_style = path\n'

new nested-only-blank-lines 's3 = followed only by blank lines is the empty string'
cfg '[default]\ns3 =\n\n\nregion = us-east-1\n'

new nested-blank-first 's3 = then a blank line, then indented sub-lines: still a nested block'
cfg '[default]\ns3 =\n\n  addressing_style = path\n'

new nested-with-indented-header 'an indented [x] inside a nested block has no = : rejected'
cfg '[default]\ns3 =\n  addressing_style = path\n  [x]\n'

new nested-multiple-blocks 'several nested blocks in one profile'
cfg '[profile p]\ns3 =\n  addressing_style = path\ndynamodb =\n  endpoint_url = http://localhost:8000\nregion = us-east-1\n'

new nested-in-credentials 'a nested block inside a credentials section is parsed as nested too'
cred "$CREDS""s3 =\n  addressing_style = path\n"

new nested-form-feed-splits 'a form feed inside a nested sub-value splits it into two sub-lines (str.splitlines)'
cfg '[default]\ns3 =\n  a = 1\x0cb = 2\n'

new nested-form-feed-no-equals 'a form feed inside a nested sub-line whose second part has no = : rejected'
cfg '[default]\ns3 =\n  a = 1\x0cjunk\n'

new nested-line-separator 'U+2028 and U+0085 inside a nested sub-value also split it (str.splitlines)'
cfg '[default]\ns3 =\n  a = 1\xe2\x80\xa8b = 2\xc2\x85c = 3\n'

new nested-mixed-indent 'nested sub-lines with different indentation (tab, spaces) are one block'
cfg '[default]\ns3 =\n    a = 1\n  b = 2\n\tc = 3\n'

new nested-unindented-comment-inside 'a comment or blank line at column 0 between nested sub-lines does not end the block'
cfg '[default]\ns3 =\n  a = 1\n# column-0 comment\n\n  b = 2\nregion = us-east-1\n'

new continuation-unindented-comment 'a column-0 comment between a key and its indented continuation does not end the value'
cfg '[default]\nnote = a\n; column-0 comment\n  b\n'

new both-files-rejected 'both files are rejected (duplicate section in config, BOM in credentials)'
cfg '[default]\nregion = a\n[default]\nregion = b\n'
cred "\xef\xbb\xbf$CREDS"

new dunder-name-key 'a key named __name__ has no special meaning'
cfg '[default]\n__name__ = x\nregion = us-east-1\n'

new nested-overridden-by-string 'config has a nested s3 block, credentials sets s3 to a plain string: the string wins'
cfg '[default]\ns3 =\n  addressing_style = path\nregion = us-east-1\n'
cred "$CREDS""s3 = plain\n"

new header-double-close '[profile x]] is the profile "x]" (header runs to the last ])'
cfg '[profile x]]\nregion = us-east-1\n'

new indented-continuation-equals 'an indented line starting with = continues the value ("a\n= b")'
cfg '[default]\nnote = a\n  = b\n'

# --------------------------------------------------------------- services and sso-session
new sso-session-basic '[sso-session my-sso] and a profile that uses it'
cfg '[profile my-dev-profile]\nsso_session = my-sso\nsso_account_id = 111122223333\nsso_role_name = SampleRole\nregion = us-west-2\n\n[sso-session my-sso]\nsso_region = us-east-1\nsso_start_url = https://my-sso-portal.awsapps.com/start\nsso_registration_scopes = sso:account:access\n'

new sso-session-two-words '[sso-session a b] is 3 words: ignored; [sso-session "a b"] is "a b"'
cfg '[sso-session a b]\nsso_region = us-east-1\n[sso-session "a b"]\nsso_region = us-east-2\n'

new sso-session-prefix-lookalike '[sso-sessions x] matches the prefix: sso-session "x"'
cfg '[sso-sessions x]\nsso_region = us-east-1\n'

new services-nested '[services my-svc] with nested s3 and dynamodb blocks'
cfg '[profile dev]\nservices = my-svc\n\n[services my-svc]\ns3 =\n  endpoint_url = http://localhost:4566\ndynamodb =\n  endpoint_url = http://localhost:8000\n'

new services-duplicate-spelling '[services x] and [services  x]: two sections, the later wins'
cfg '[services x]\ns3 =\n  endpoint_url = http://a\n[services  x]\nsts =\n  endpoint_url = http://b\n'

# --------------------------------------------------------------- values
new quotes-and-backslashes 'quotes and backslashes are literal: "quoted", '"'"'single'"'"', C:\Program Files\x.exe'
cfg '[default]\ndq = "quoted"\nsq = '"'"'single'"'"'\nca_bundle = C:\\Program Files\\x.exe\nescaped = a\\nb\\tc\nmixed = "C:\\Users\\me"\n'

new percent-and-dollar 'no interpolation: %(x)s, 100%, ${HOME}, $HOME and ~ are literal'
cfg '[default]\ninterp = %%(region)s\npct = 100%%\nbraced = ${HOME}/x\nplain = $HOME/x\ntilde = ~/certs/ca.pem\n'

new unicode-values 'non-ASCII values (accents, CJK, emoji) are kept'
cfg '[default]\nname = caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x94\x91\nregion = us-east-1\n'

new unicode-uppercase-key 'non-ASCII upper-case key names are lower-cased like Python str.lower (final sigma, dotted I)'
cfg '[default]\n\xce\x9f\xce\x94\xce\x9f\xce\xa3 = x\n\xc3\x84RGER = y\n\xc4\xb0D = z\n'

new uppercase-keys 'keys are lower-cased: Region, OUTPUT, Aws_Access_Key_Id'
cfg '[default]\nRegion = us-east-1\nOUTPUT = json\nCli_Pager =\n'
cred "[default]\nAws_Access_Key_Id = $K1\naws_secret_access_key = $S1\n"

new very-long-line 'a 10000-character value and a 300-character key'
long="$(printf 'A%.0s' {1..10000})"
longkey="$(printf 'k%.0s' {1..300})"
cfg "[default]\nregion = us-east-1\nlong_value = $long\n$longkey = v\n"

new nbsp-around-value 'NBSP around a value is stripped (Unicode whitespace); inside a value it is kept'
cfg '[default]\nregion =\xc2\xa0us-east-1\xc2\xa0\nname = a\xc2\xa0b\n'

new nbsp-indent-continuation 'a line starting with NBSP counts one column of indentation (continuation of an unindented key)'
cfg '[default]\nnote = a\n\xc2\xa0b\n'

new nbsp-only-line 'a line holding only NBSP is a blank line'
cfg '[default]\nregion = us-east-1\n\xc2\xa0\noutput = json\n'

new indent-counts-characters 'indentation counts characters, not bytes: ideographic-space (3 bytes) key, 2-space line continues it'
cfg '[default]\n\xe3\x80\x80note = a\n  b\n'

new indent-nbsp-key-two-spaces 'NBSP-indented key (1 char, 2 bytes), then a 2-space line: continuation'
cfg '[default]\n\xc2\xa0note = a\n  b\n'

new form-feed-line 'a line with only a form feed is blank; a form feed at the end of a value is stripped'
cfg '[default]\nregion = us-east-1\x0c\n\x0c\noutput = json\n'

new form-feed-in-value 'a form feed inside a plain value is kept'
cfg '[default]\nname = a\x0cb\n'

new vertical-tab-strip 'a vertical tab at the ends of a value is stripped'
cfg '[default]\nregion = \x0bus-east-1\x0b\n'

new unit-separator-strip 'Python strips 0x1C-0x1F as whitespace (Rust str::trim does not): region = us-east-1<0x1F>, output = <0x1C>json'
cfg '[default]\nregion = us-east-1\x1f\noutput = \x1cjson\n'

new unit-separator-indent 'a line starting with 0x1F is indented by one column (Python regex \S), so it continues the value'
cfg '[default]\nnote = a\n\x1fb\n'

new nel-in-value 'U+0085 (NEL) inside a plain value is kept (files split lines only on LF, CR, CRLF)'
cfg '[default]\nname = a\xc2\x85b\nregion = us-east-1\n'

new line-separator-in-value 'U+2028 inside a plain value is kept'
cfg '[default]\nname = a\xe2\x80\xa8b\n'

new windows-profile 'a realistic Windows-written pair: CRLF, backslash paths, credential_process with quotes'
cfg '[default]\r\nregion = eu-west-3\r\nca_bundle = C:\\Users\\me\\certs\\ca.pem\r\n\r\n[profile tool]\r\ncredential_process = "C:\\Program Files\\tool\\tool.exe" --profile x\r\n'
cred "[default]\r\naws_access_key_id = $K1\r\naws_secret_access_key = $S1\r\n"

new realistic-mixed 'a realistic large config: sso, roles, services, nested s3, comments'
cfg "# managed by hand\n[default]\nregion = us-east-1\noutput = json\ncli_pager =\n\n[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/Admin\nsource_profile = default\nmfa_serial = arn:aws:iam::123456789012:mfa/me\nduration_seconds = 3600\n\n# SSO\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start#/\nsso_region = eu-west-1\n\n[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = PowerUser\nregion = eu-west-1\nservices = local\n\n[services local]\ns3 =\n  endpoint_url = http://localhost:4566\n  addressing_style = path\n\n[profile proc]\ncredential_process = /usr/local/bin/get-creds --account 123456789012\n"
cred "$CREDS\n[ci]\naws_access_key_id = $K2\naws_secret_access_key = $S2\nregion = us-west-2\n"

if [ "$mode" = --check ]; then
    if diff -r --exclude=make.sh "$out" "$here" >/dev/null; then
        echo "corpus matches make.sh"
    else
        diff -rq --exclude=make.sh "$out" "$here" >&2 || true
        echo "corpus differs from make.sh: run bash tests/corpus/make.sh" >&2
        exit 1
    fi
else
    echo "wrote $(find "$out" -mindepth 1 -maxdepth 1 -type d | wc -l) cases to $out"
fi
