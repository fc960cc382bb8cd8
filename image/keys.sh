#!/usr/bin/env bash
# The RAUC keys of a development build, made once:
#
#   image/keys.sh DIR      (image/build.sh runs it; default DIR .cache/image/keys)
#
# DIR/ca.cert.pem is the keyring the image trusts (/etc/rauc/keyring.pem);
# DIR/signing.cert.pem and DIR/signing.key.pem sign bundles (image/bundle.sh).
# When DIR already has ca.cert.pem nothing is made: a production build gives
# the directory with its own CA certificate (and signs elsewhere). The
# development CA's key is kept beside it, so more signing keys can be made;
# none of these files is ever committed (.cache/ is ignored). Prints DIR.
set -euo pipefail
dir="${1:?usage: image/keys.sh DIR}"
mkdir -p "$dir"
if [ ! -f "$dir/ca.cert.pem" ]; then
  umask 077
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  cat >"$tmp/ca.cnf" <<'CNF'
[req]
distinguished_name = dn
prompt = no
[dn]
O = Fieldcast development
CN = Fieldcast development update CA
[ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[signing]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
  openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -config "$tmp/ca.cnf" -extensions ca \
    -keyout "$dir/ca.key.pem" -out "$tmp/ca.cert.pem" 2>/dev/null
  openssl req -newkey rsa:3072 -nodes -subj "/O=Fieldcast development/CN=Fieldcast development bundle signing" \
    -keyout "$dir/signing.key.pem" -out "$tmp/signing.csr" 2>/dev/null
  openssl x509 -req -in "$tmp/signing.csr" -CA "$tmp/ca.cert.pem" -CAkey "$dir/ca.key.pem" -CAcreateserial \
    -days 3650 -extfile "$tmp/ca.cnf" -extensions signing -out "$dir/signing.cert.pem" 2>/dev/null
  chmod 0644 "$tmp/ca.cert.pem" "$dir/signing.cert.pem"
  mv "$tmp/ca.cert.pem" "$dir/ca.cert.pem" # last: its presence means the set is whole
fi
echo "$dir"
