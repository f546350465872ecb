package dev.braid.transport.quic.internal;

import dev.braid.tls.SelfSignedCertificates;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;

/**
 * A self-signed X.509 certificate with a fresh EC P-256 key, made at run time by the SPI's
 * {@link SelfSignedCertificates} (JDK only): a version 3 certificate signed with ecdsa-with-SHA256, subject
 * and issuer {@code CN=<commonName>}, a subjectAltName for {@code localhost}, {@code 127.0.0.1} and
 * {@code ::1} (plus given host names). No key ever touches the disk.
 *
 * <p><b>Thread safety.</b> Immutable.
 */
public final class SelfSignedCertificate {
  private static final InetAddress LOOPBACK_V4 = address(new byte[] {127, 0, 0, 1});
  private static final InetAddress LOOPBACK_V6 = address(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});

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
   * listener adds the literal addresses it can be dialed at. A host name that is empty or not ASCII fails
   * with a {@link GeneralSecurityException}.
   */
  public static SelfSignedCertificate generate(String commonName, Duration validity, java.util.List<String> hostNames)
      throws GeneralSecurityException {
    KeyPair keys = SelfSignedCertificates.newEcKeyPair();
    java.util.LinkedHashSet<String> dnsNames = new java.util.LinkedHashSet<>();
    dnsNames.add("localhost");
    dnsNames.add("127.0.0.1");
    dnsNames.add("::1");
    dnsNames.addAll(hostNames);
    try {
      X509Certificate cert = SelfSignedCertificates.create(keys, commonName, validity, java.util.List.copyOf(dnsNames),
          java.util.List.of(LOOPBACK_V4, LOOPBACK_V6));
      return new SelfSignedCertificate(keys, cert);
    } catch (IllegalArgumentException e) { // e.g. a host name that is not ASCII: the listener reports an IOException
      throw new GeneralSecurityException("cannot make a certificate for " + dnsNames + ": " + e.getMessage(), e);
    }
  }

  private static InetAddress address(byte[] octets) {
    try {
      return InetAddress.getByAddress(octets);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e); // only for a wrong length
    }
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
}
