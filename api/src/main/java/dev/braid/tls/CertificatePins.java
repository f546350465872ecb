package dev.braid.tls;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Locale;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Certificate pinning, the way every Braid transport that uses TLS identifies its listener: the listener's
 * address carries the SHA-256 of its certificate ({@code certhash=<64 hex digits>}), and the dialer trusts exactly
 * that certificate, with no certificate authority and no host name check (a self-signed certificate names no
 * host). One implementation for TCP+TLS, QUIC and any transport that comes later.
 *
 * <p><b>Thread safety.</b> Stateless; the trust managers are immutable.
 */
public final class CertificatePins {
  private CertificatePins() {}

  /** Lower-case hex SHA-256 of {@code bytes}. */
  public static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  /** Lower-case hex SHA-256 of the certificate's DER encoding: the value of {@code certhash} in an address. */
  public static String hashOf(X509Certificate certificate) {
    try {
      return sha256Hex(certificate.getEncoded());
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("the certificate cannot be encoded: " + e, e);
    }
  }

  /**
   * A trust manager that accepts exactly one server certificate, the one whose SHA-256 is {@code hexSha256}, and
   * only while it is valid; anything else fails the handshake with a message naming both hashes. Client
   * certificates are refused.
   *
   * @throws IllegalArgumentException if {@code hexSha256} is not 64 hex digits
   */
  public static X509ExtendedTrustManager trustOnly(String hexSha256) {
    if (hexSha256 == null || hexSha256.length() != 64 || !hexSha256.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
      throw new IllegalArgumentException("certhash must be 64 hex digits (SHA-256), was " + hexSha256);
    }
    return new Pinned(hexSha256.toLowerCase(Locale.ROOT));
  }

  private static final class Pinned extends X509ExtendedTrustManager {
    private final byte[] expected;

    Pinned(String expectedHex) {
      this.expected = HexFormat.of().parseHex(expectedHex);
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("the server presented no certificate");
      }
      byte[] actual;
      try {
        actual = MessageDigest.getInstance("SHA-256").digest(chain[0].getEncoded());
      } catch (GeneralSecurityException e) {
        throw new CertificateException(e);
      }
      if (!MessageDigest.isEqual(expected, actual)) {
        throw new CertificateException("server certificate SHA-256 " + HexFormat.of().formatHex(actual)
            + " does not match the pinned certhash " + HexFormat.of().formatHex(expected));
      }
      chain[0].checkValidity();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("client certificates are not used by Braid");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      throw new CertificateException("client certificates are not used by Braid");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("client certificates are not used by Braid");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
