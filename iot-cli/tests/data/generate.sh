#!/bin/sh
# Regenerates the CLI's own fixtures with OpenSSL (3.x). Run from this directory.
# device-ec.p12: a PKCS#12 archive of iot-x509's device-ec fixture (certificate + key), the file
# a person may pass to `iot x509 inspect` by mistake; password "test".
set -eu
X509=../../../iot-x509/tests/data/openssl
openssl pkcs12 -export -in "$X509/device-ec.pem" -inkey "$X509/device-ec.key.pem" \
  -out device-ec.p12 -passout pass:test -name device-ec
