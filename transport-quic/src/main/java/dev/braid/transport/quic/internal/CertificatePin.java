package dev.braid.transport.quic.internal;

import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import javax.net.ssl.X509TrustManager;

/**
 * A trust manager that accepts exactly one server certificate: the one whose SHA-256 matches the
 * {@code certhash} of the dialed address. Anything else fails the handshake with a message naming both
 * hashes.
 *
 * <p><b>Thread safety.</b> Immutable.
 */
public final class CertificatePin implements X509TrustManager {
  private final byte[] expected;

  /** @param hexSha256 the expected certificate hash, 64 hex digits */
  public CertificatePin(String hexSha256) {
    if (hexSha256 == null || hexSha256.length() != 64) {
      throw new IllegalArgumentException("certhash must be 64 hex digits (SHA-256), was " + hexSha256);
    }
    this.expected = HexFormat.of().parseHex(hexSha256);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("the server presented no certificate");
    }
    chain[0].checkValidity();
    byte[] actual = sha256(chain[0]);
    if (!MessageDigest.isEqual(expected, actual)) {
      throw new CertificateException("server certificate SHA-256 " + HexFormat.of().formatHex(actual)
          + " does not match the pinned certhash " + HexFormat.of().formatHex(expected));
    }
  }

  /** The lower-case hex SHA-256 of a certificate's DER encoding, as carried in {@code certhash=}. */
  public static String sha256Hex(X509Certificate cert) {
    try {
      return HexFormat.of().formatHex(sha256(cert));
    } catch (CertificateException e) {
      throw new IllegalArgumentException("cannot encode the certificate: " + e.getMessage(), e);
    }
  }

  private static byte[] sha256(X509Certificate cert) throws CertificateException {
    try {
      return MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new CertificateException("client certificates are not used by Braid's QUIC transport");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}
