package dev.braid.transport.quic.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;

/**
 * A self-signed X.509 certificate with a fresh EC P-256 key, made at run time. The JDK has no public
 * certificate builder, so the DER is written here by a small ASN.1 writer: a version 3 certificate signed
 * with ecdsa-with-SHA256, subject and issuer {@code CN=braid}, a subjectAltName for {@code localhost},
 * {@code 127.0.0.1} and {@code ::1} (plus given host names). No key ever touches the disk.
 *
 * <p><b>Thread safety.</b> Immutable.
 */
public final class SelfSignedCertificate {
  private static final byte[] OID_ECDSA_SHA256 = {0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x04, 0x03, 0x02};
  private static final byte[] OID_COMMON_NAME = {0x55, 0x04, 0x03};
  private static final byte[] OID_SUBJECT_ALT_NAME = {0x55, 0x1d, 0x11};
  private static final DateTimeFormatter UTC_TIME = DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'").withZone(ZoneOffset.UTC);

  private final KeyPair keyPair;
  private final X509Certificate certificate;

  private SelfSignedCertificate(KeyPair keyPair, X509Certificate certificate) {
    this.keyPair = keyPair;
    this.certificate = certificate;
  }

  /** A new key pair and certificate valid from one hour ago for {@code validity}. */
  public static SelfSignedCertificate generate(String commonName, Duration validity) throws GeneralSecurityException {
    return generate(commonName, validity, java.util.List.of());
  }

  /**
   * As {@link #generate(String, Duration)}, with {@code hostNames} added as dNSName entries. kwik's TLS client
   * (agent15) matches the dialed host only against dNSName entries, even when it is an IP address, so a
   * listener adds the literal addresses it can be dialed at.
   */
  public static SelfSignedCertificate generate(String commonName, Duration validity, java.util.List<String> hostNames)
      throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
    KeyPair keys = generator.generateKeyPair();
    Instant now = Instant.now();
    byte[] serial = new byte[16];
    new SecureRandom().nextBytes(serial);
    serial[0] &= 0x7f; // positive
    byte[] algorithm = seq(oid(OID_ECDSA_SHA256));
    byte[] name = seq(set(seq(oid(OID_COMMON_NAME), tlv(0x0c, commonName.getBytes(StandardCharsets.UTF_8)))));
    byte[] validityDer = seq(utcTime(now.minus(Duration.ofHours(1))), utcTime(now.plus(validity)));
    java.util.LinkedHashSet<String> dnsNames = new java.util.LinkedHashSet<>();
    dnsNames.add("localhost");
    dnsNames.add("127.0.0.1");
    dnsNames.add("::1");
    dnsNames.addAll(hostNames);
    ByteArrayOutputStream names = new ByteArrayOutputStream();
    for (String n : dnsNames) {
      names.writeBytes(tlv(0x82, n.getBytes(StandardCharsets.US_ASCII))); // dNSName [2]
    }
    names.writeBytes(tlv(0x87, new byte[] {127, 0, 0, 1})); // iPAddress [7]
    names.writeBytes(tlv(0x87, new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}));
    byte[] altNames = tlv(0x30, names.toByteArray());
    byte[] extensions = tlv(0xa3, seq(seq(oid(OID_SUBJECT_ALT_NAME), tlv(0x04, altNames))));
    byte[] tbs = seq(
        tlv(0xa0, integer(BigInteger.valueOf(2))), // version v3
        integer(new BigInteger(serial)),
        algorithm,
        name,
        validityDer,
        name,
        keys.getPublic().getEncoded(), // SubjectPublicKeyInfo, already DER
        extensions);
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(keys.getPrivate());
    signer.update(tbs);
    byte[] signature = signer.sign();
    byte[] bitString = new byte[signature.length + 1]; // leading byte: 0 unused bits
    System.arraycopy(signature, 0, bitString, 1, signature.length);
    byte[] der = seq(tbs, algorithm, tlv(0x03, bitString));
    X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(der));
    cert.verify(keys.getPublic());
    return new SelfSignedCertificate(keys, cert);
  }

  /** The certificate. */
  public X509Certificate certificate() {
    return certificate;
  }

  /** The key pair whose public half the certificate carries. */
  public KeyPair keyPair() {
    return keyPair;
  }

  /** A PKCS12 key store holding the key and certificate under {@code alias}, protected by {@code password}. */
  public KeyStore toKeyStore(String alias, char[] password) throws GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try {
      ks.load(null, null);
    } catch (IOException e) {
      throw new GeneralSecurityException("cannot initialise an empty PKCS12 key store", e);
    }
    ks.setKeyEntry(alias, keyPair.getPrivate(), password, new Certificate[] {certificate});
    return ks;
  }

  /** The lower-case hex SHA-256 of a certificate's DER encoding, as carried in {@code certhash=}. */
  public static String sha256Hex(X509Certificate cert) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }

  // ---------------------------------------------------------------- a minimal DER writer

  static byte[] tlv(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
    out.write(tag);
    int n = content.length;
    if (n < 0x80) {
      out.write(n);
    } else if (n < 0x100) {
      out.write(0x81);
      out.write(n);
    } else if (n < 0x10000) {
      out.write(0x82);
      out.write(n >> 8);
      out.write(n);
    } else {
      out.write(0x83);
      out.write(n >> 16);
      out.write(n >> 8);
      out.write(n);
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  static byte[] seq(byte[]... parts) {
    return tlv(0x30, concat(parts));
  }

  private static byte[] set(byte[]... parts) {
    return tlv(0x31, concat(parts));
  }

  private static byte[] oid(byte[] encoded) {
    return tlv(0x06, encoded);
  }

  static byte[] integer(BigInteger value) {
    return tlv(0x02, value.toByteArray());
  }

  private static byte[] utcTime(Instant t) {
    return tlv(0x17, UTC_TIME.format(t).getBytes(StandardCharsets.US_ASCII));
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
