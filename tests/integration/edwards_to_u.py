#!/usr/bin/env python3
"""Prints the RFC 7748 u-coordinate (hex, little-endian) of an Ed25519 or Ed448 public key
given as a DER SubjectPublicKeyInfo on stdin: an implementation of the maps independent of
vouch and of libsodium/libdecaf, so that the openssl CLI's X25519/X448 public key of z.key
can be compared with the voucher's Edwards Z.
  Ed25519: u = (1 + y) / (1 - y)                       (RFC 7748 section 4.1)
  Ed448:   u = y^2 / x^2, x recovered from y and its sign bit  (RFC 7748 4.2, RFC 8032 5.2.3)"""
import sys

der = sys.stdin.buffer.read()
if der[:12] == bytes.fromhex("302a300506032b6570032100") and len(der) == 44:
    p = 2**255 - 19
    y = int.from_bytes(der[12:], "little") & ((1 << 255) - 1)
    u = (1 + y) * pow(1 - y, p - 2, p) % p
    print(u.to_bytes(32, "little").hex())
elif der[:12] == bytes.fromhex("3043300506032b6571033a00") and len(der) == 69:
    p = 2**448 - 2**224 - 1
    d = -39081 % p
    enc = int.from_bytes(der[12:], "little")
    y = enc & ((1 << 455) - 1)
    x2 = (y * y - 1) * pow(d * y * y - 1, p - 2, p) % p
    x = pow(x2, (p + 1) // 4, p)
    if x * x % p != x2:
        sys.exit("not a point")
    u = y * y * pow(x * x, p - 2, p) % p
    print(u.to_bytes(56, "little").hex())
else:
    sys.exit("not an Ed25519 or Ed448 SubjectPublicKeyInfo")
