package dev.braid.tls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Self-signed X.509 certificates made at run time, for transports that secure a listener without any
 * configured key (QUIC listeners, {@code tcp+tls://} listeners; dialers pin them by hash). The
 * JDK has no public certificate builder, so the DER is written here by a minimal ASN.1 writer, with the
 * JDK's {@code java.security} only (no BouncyCastle, no keytool, no JDK-internal classes). No key touches
 * the disk.
 *
 * <p>A certificate made here is version 3, signed with ecdsa-with-SHA256 by the EC key it carries, has
 * subject and issuer {@code CN=<commonName>} (UTF8String), a random positive 16-octet serial number, is
 * valid from one hour before creation (clock skew) for the given duration, and carries a subjectAltName
 * extension only when host names or addresses are given. Times are UTCTime through 2049 and
 * GeneralizedTime from 2050, as RFC 5280 requires. The result is parsed back by the JDK and its signature
 * verified before it is returned.
 *
 * <p><b>Thread safety.</b> Stateless; every method is thread-safe.
 */
public final class SelfSignedCertificates {
  private static final String OID_ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
  private static final String OID_COMMON_NAME = "2.5.4.3";
  private static final String OID_SUBJECT_ALT_NAME = "2.5.29.17";
  private static final DateTimeFormatter UTC_TIME =
      DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter GENERALIZED_TIME =
      DateTimeFormatter.ofPattern("yyyyMMddHHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC);

  private SelfSignedCertificates() {}

  /** A fresh EC key pair on P-256 (secp256r1), the key a certificate made here carries. */
  public static KeyPair newEcKeyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
    return generator.generateKeyPair();
  }

  /** A certificate for {@code keys} with no subjectAltName; see {@link #create(KeyPair, String, Duration, List, List)}. */
  public static X509Certificate create(KeyPair keys, String commonName, Duration validity)
      throws GeneralSecurityException {
    return create(keys, commonName, validity, List.of(), List.of());
  }

  /**
   * A self-signed certificate for the EC key pair {@code keys}.
   *
   * @param commonName the subject's and issuer's CN
   * @param validity how long after now the certificate stays valid; positive
   * @param dnsNames subjectAltName dNSName entries, in order (ASCII only). Some TLS clients match even an
   *     IP literal only against dNSName entries, so a caller may list address literals here too
   * @param ipAddresses subjectAltName iPAddress entries, in order
   * @throws IllegalArgumentException if the key is not EC, the validity is not positive or a DNS name is not ASCII
   * @throws GeneralSecurityException if signing or parsing the certificate fails
   */
  public static X509Certificate create(KeyPair keys, String commonName, Duration validity, List<String> dnsNames,
      List<InetAddress> ipAddresses) throws GeneralSecurityException {
    Objects.requireNonNull(keys, "keys");
    Objects.requireNonNull(commonName, "commonName");
    if (!"EC".equals(keys.getPublic().getAlgorithm()) || !"EC".equals(keys.getPrivate().getAlgorithm())) {
      throw new IllegalArgumentException("an EC key pair is needed (ecdsa-with-SHA256), not "
          + keys.getPublic().getAlgorithm());
    }
    if (validity.isNegative() || validity.isZero()) {
      throw new IllegalArgumentException("validity must be positive, was " + validity);
    }
    byte[] extensions = altNames(dnsNames, ipAddresses);
    Instant now = Instant.now();
    byte[] serial = new byte[16];
    new SecureRandom().nextBytes(serial);
    serial[0] = (byte) ((serial[0] & 0x3f) | 0x40); // positive, non-zero, always 16 octets
    byte[] algorithm = seq(oid(OID_ECDSA_WITH_SHA256)); // no parameters
    byte[] name = seq(set(seq(oid(OID_COMMON_NAME), tlv(0x0c, commonName.getBytes(StandardCharsets.UTF_8)))));
    ByteArrayOutputStream tbs = new ByteArrayOutputStream();
    tbs.writeBytes(tlv(0xa0, integer(BigInteger.TWO))); // [0] version: v3
    tbs.writeBytes(integer(new BigInteger(serial)));
    tbs.writeBytes(algorithm);
    tbs.writeBytes(name); // issuer
    tbs.writeBytes(seq(time(now.minus(Duration.ofHours(1))), time(now.plus(validity))));
    tbs.writeBytes(name); // subject
    tbs.writeBytes(keys.getPublic().getEncoded()); // SubjectPublicKeyInfo, already DER
    if (extensions != null) {
      tbs.writeBytes(tlv(0xa3, seq(extensions))); // [3] extensions
    }
    byte[] tbsDer = tlv(0x30, tbs.toByteArray());
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(keys.getPrivate());
    signer.update(tbsDer);
    byte[] signature = signer.sign();
    byte[] bitString = new byte[signature.length + 1]; // leading octet: no unused bits
    System.arraycopy(signature, 0, bitString, 1, signature.length);
    byte[] der = seq(tbsDer, algorithm, tlv(0x03, bitString));
    X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(der));
    cert.verify(keys.getPublic());
    return cert;
  }

  /** The subjectAltName extension (not critical), or null when there is no name. */
  private static byte[] altNames(List<String> dnsNames, List<InetAddress> ipAddresses) {
    if (dnsNames.isEmpty() && ipAddresses.isEmpty()) {
      return null;
    }
    ByteArrayOutputStream names = new ByteArrayOutputStream();
    for (String n : dnsNames) {
      if (n.isEmpty() || !StandardCharsets.US_ASCII.newEncoder().canEncode(n)) {
        throw new IllegalArgumentException("a dNSName must be non-empty ASCII (IA5String), was '" + n + "'");
      }
      names.writeBytes(tlv(0x82, n.getBytes(StandardCharsets.US_ASCII))); // [2] dNSName
    }
    for (InetAddress a : ipAddresses) {
      names.writeBytes(tlv(0x87, a.getAddress())); // [7] iPAddress: 4 or 16 octets
    }
    return seq(oid(OID_SUBJECT_ALT_NAME), tlv(0x04, tlv(0x30, names.toByteArray())));
  }

  // ---------------------------------------------------------------- a minimal DER writer

  /** Tag, definite length in its shortest form, content. */
  static byte[] tlv(int tag, byte[] content) {
    int n = content.length;
    if (n >= 1 << 24) {
      throw new IllegalArgumentException("DER content too long: " + n + " bytes");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(n + 5);
    out.write(tag);
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

  static byte[] set(byte[]... parts) {
    return tlv(0x31, concat(parts));
  }

  static byte[] integer(BigInteger value) {
    return tlv(0x02, value.toByteArray()); // two's complement, minimal: what DER wants
  }

  /** An OBJECT IDENTIFIER from its dotted form (first arc 0, 1 or 2). */
  static byte[] oid(String dotted) {
    String[] arcs = dotted.split("\\.");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeBase128(out, Long.parseLong(arcs[0]) * 40 + Long.parseLong(arcs[1]));
    for (int i = 2; i < arcs.length; i++) {
      writeBase128(out, Long.parseLong(arcs[i]));
    }
    return tlv(0x06, out.toByteArray());
  }

  /** UTCTime for 1950 through 2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5), in whole seconds. */
  static byte[] time(Instant t) {
    int year = ZonedDateTime.ofInstant(t, ZoneOffset.UTC).getYear();
    boolean utc = year >= 1950 && year <= 2049;
    String s = (utc ? UTC_TIME : GENERALIZED_TIME).format(t);
    return tlv(utc ? 0x17 : 0x18, s.getBytes(StandardCharsets.US_ASCII));
  }

  private static void writeBase128(ByteArrayOutputStream out, long v) {
    int groups = 1;
    for (long t = v >>> 7; t != 0; t >>>= 7) {
      groups++;
    }
    for (int g = groups - 1; g >= 0; g--) {
      int b = (int) ((v >>> (7 * g)) & 0x7f);
      out.write(g == 0 ? b : b | 0x80);
    }
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
