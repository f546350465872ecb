package dev.braid.transport.tcp.internal;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Locale;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS for the TCP transport, with the JDK's TLS in Netty's {@code SslHandler}. A listener generates an
 * EC P-256 key pair and a self-signed certificate at run time (the DER is built here: no BouncyCastle, no
 * keytool, no JDK-internal classes), and publishes the certificate's SHA-256 in its address
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
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
      KeyPair keys = g.generateKeyPair();
      X509Certificate cert = selfSignedCertificate(keys, "braid-tcp", Duration.ofDays(30));
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

  // ---------------------------------------------------------------- certificate, in DER

  static X509Certificate selfSignedCertificate(KeyPair keys, String commonName, Duration validity)
      throws GeneralSecurityException {
    byte[] sigAlg = seq(oid("1.2.840.10045.4.3.2")); // ecdsa-with-SHA256, no parameters
    byte[] name = seq(set(seq(oid("2.5.4.3"), tlv(0x0C, commonName.getBytes(StandardCharsets.UTF_8)))));
    Instant now = Instant.now();
    byte[] serial = new byte[16];
    new SecureRandom().nextBytes(serial);
    byte[] tbs = seq(
        tlv(0xA0, integer(BigInteger.TWO)), // version v3
        integer(new BigInteger(1, serial)),
        sigAlg,
        name,
        seq(utcTime(now.minus(Duration.ofHours(1))), utcTime(now.plus(validity))),
        name,
        keys.getPublic().getEncoded()); // SubjectPublicKeyInfo, already DER
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(keys.getPrivate());
    signer.update(tbs);
    byte[] signature = signer.sign();
    byte[] bits = new byte[signature.length + 1];
    System.arraycopy(signature, 0, bits, 1, signature.length);
    byte[] der = seq(tbs, sigAlg, tlv(0x03, bits));
    return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(new ByteArrayInputStream(der));
  }

  private static byte[] tlv(int tag, byte[] value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(value.length + 6);
    out.write(tag);
    int n = value.length;
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
    out.writeBytes(value);
    return out.toByteArray();
  }

  private static byte[] seq(byte[]... parts) {
    return tlv(0x30, concat(parts));
  }

  private static byte[] set(byte[]... parts) {
    return tlv(0x31, concat(parts));
  }

  private static byte[] integer(BigInteger v) {
    return tlv(0x02, v.toByteArray());
  }

  private static byte[] utcTime(Instant t) {
    String s = DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'", Locale.ROOT).withZone(ZoneOffset.UTC).format(t);
    return tlv(0x17, s.getBytes(StandardCharsets.US_ASCII));
  }

  private static byte[] oid(String dotted) {
    String[] p = dotted.split("\\.");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(Integer.parseInt(p[0]) * 40 + Integer.parseInt(p[1]));
    for (int i = 2; i < p.length; i++) {
      long v = Long.parseLong(p[i]);
      int groups = 1;
      for (long t = v >>> 7; t != 0; t >>>= 7) {
        groups++;
      }
      for (int g = groups - 1; g >= 0; g--) {
        int b = (int) ((v >>> (7 * g)) & 0x7F);
        out.write(g == 0 ? b : b | 0x80);
      }
    }
    return tlv(0x06, out.toByteArray());
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
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
