package dev.braid.transport.tcp.internal;

import dev.braid.tls.SelfSignedCertificates;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS for the TCP transport, with the JDK's TLS in Netty's {@code SslHandler}. A listener generates an
 * EC P-256 key pair and a self-signed certificate at run time ({@link SelfSignedCertificates}: JDK only), and
 * publishes the certificate's SHA-256 in its address
 * ({@code tcp+tls://host:port?certhash=HEX}); a dialer given that hash accepts exactly that certificate.
 * A dialer without a hash verifies the server against the JDK's default trust store and host name.
 *
 * <p><b>Thread safety.</b> Immutable and thread-safe.
 */
public final class TcpTls {
  private static final String[] PROTOCOLS = {"TLSv1.3"};

  private final SslContext serverContext;
  private final String certificateHash;

  private TcpTls(SslContext serverContext, String certificateHash) {
    this.serverContext = serverContext;
    this.certificateHash = certificateHash;
  }

  /** A server side with a freshly generated self-signed certificate. */
  public static TcpTls selfSigned() throws IOException {
    try {
      KeyPair keys = SelfSignedCertificates.newEcKeyPair();
      X509Certificate cert = SelfSignedCertificates.create(keys, "braid-tcp", Duration.ofDays(30));
      SslContext ctx = SslContextBuilder.forServer(keys.getPrivate(), cert)
          .sslProvider(SslProvider.JDK)
          .protocols(PROTOCOLS)
          .build();
      return new TcpTls(ctx, sha256Hex(cert.getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot generate a self-signed TLS certificate: " + e, e);
    }
  }

  /**
   * A server side with the key and certificate chain of {@code alias} (or the keystore's first key entry
   * when null) from a PKCS12 or JKS keystore file.
   */
  public static TcpTls fromKeyStore(java.nio.file.Path file, char[] password, String alias) throws IOException {
    try (java.io.InputStream in = java.nio.file.Files.newInputStream(file)) {
      java.security.KeyStore ks = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
      try {
        ks.load(in, password);
      } catch (IOException e) {
        try (java.io.InputStream again = java.nio.file.Files.newInputStream(file)) {
          ks = java.security.KeyStore.getInstance("JKS");
          ks.load(again, password);
        }
      }
      String a = alias;
      if (a == null) {
        for (java.util.Enumeration<String> e = ks.aliases(); e.hasMoreElements(); ) {
          String candidate = e.nextElement();
          if (ks.isKeyEntry(candidate)) {
            a = candidate;
            break;
          }
        }
      }
      if (a == null || !ks.isKeyEntry(a)) {
        throw new IOException("keystore " + file + " has no key entry" + (alias == null ? "" : " named " + alias));
      }
      java.security.PrivateKey key = (java.security.PrivateKey) ks.getKey(a, password);
      java.security.cert.Certificate[] chain = ks.getCertificateChain(a);
      X509Certificate[] x509 = new X509Certificate[chain.length];
      for (int i = 0; i < chain.length; i++) {
        x509[i] = (X509Certificate) chain[i];
      }
      SslContext ctx = SslContextBuilder.forServer(key, x509).sslProvider(SslProvider.JDK).protocols(PROTOCOLS).build();
      return new TcpTls(ctx, sha256Hex(x509[0].getEncoded()));
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot use keystore " + file + ": " + e, e);
    }
  }

  /** The server's context. */
  public SslContext serverContext() {
    return serverContext;
  }

  /** Lower-case hex SHA-256 of the server certificate's DER encoding. */
  public String certificateHash() {
    return certificateHash;
  }

  /**
   * A client context: pinned to {@code certHash} (hex SHA-256 of the server certificate) when given,
   * otherwise verifying against the JDK's default trust store.
   */
  public static SslContext clientContext(String certHash) throws SSLException {
    SslContextBuilder b = SslContextBuilder.forClient().sslProvider(SslProvider.JDK).protocols(PROTOCOLS);
    if (certHash != null) {
      // The pin is the identity: no host name check (the certificate names no host).
      b.trustManager(new PinnedTrustManager(certHash)).endpointIdentificationAlgorithm(null);
    } else {
      b.endpointIdentificationAlgorithm("HTTPS");
    }
    return b.build();
  }

  /** Lower-case hex SHA-256 of {@code bytes}. */
  public static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  /** Accepts exactly one server certificate, by the SHA-256 of its DER encoding. */
  private static final class PinnedTrustManager extends X509ExtendedTrustManager {
    private final String expected;

    PinnedTrustManager(String expectedHex) {
      this.expected = expectedHex.toLowerCase(Locale.ROOT);
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("the server sent no certificate");
      }
      String actual = sha256Hex(chain[0].getEncoded());
      if (!MessageDigest.isEqual(actual.getBytes(StandardCharsets.US_ASCII), expected.getBytes(StandardCharsets.US_ASCII))) {
        throw new CertificateException("server certificate SHA-256 " + actual + " does not match the pinned certhash "
            + expected);
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
      throw new CertificateException("client certificates are not used");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
      throw new CertificateException("client certificates are not used");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("client certificates are not used");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
