package dev.braid.tls;

import dev.braid.TransportOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;

/**
 * A TLS listener's key and certificate chain: loaded from the keystore the options name
 * ({@link TransportOptions#TLS_KEY_STORE}, {@link TransportOptions#TLS_KEY_STORE_PASSWORD},
 * {@link TransportOptions#TLS_KEY_ALIAS}), or, without one, a self-signed certificate made at run time
 * ({@link SelfSignedCertificates}) that dialers pin by {@link #certificateHash()}. Every transport that listens
 * with TLS starts here, so the option names and the keystore rules are the same everywhere.
 *
 * @param key the private key
 * @param chain the certificate chain, the listener's own certificate first
 * @param selfSigned whether the certificate was made at run time
 */
public record ListenerIdentity(PrivateKey key, List<X509Certificate> chain, boolean selfSigned) {
  private static final String ALIAS = "braid";

  public ListenerIdentity {
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("a listener identity needs at least one certificate");
    }
    chain = List.copyOf(chain);
  }

  /**
   * The identity {@code options} configure; a new self-signed certificate for {@code commonName} (valid 30 days,
   * naming {@code dnsNames} and {@code addresses} in its subjectAltName when given) when they name no keystore.
   *
   * @throws IOException if the keystore cannot be read or holds no usable key entry
   */
  public static ListenerIdentity from(TransportOptions options, String commonName, List<String> dnsNames,
      List<InetAddress> addresses) throws IOException {
    Path file = options.get(TransportOptions.TLS_KEY_STORE).orElse(null);
    if (file == null) {
      return selfSigned(commonName, dnsNames, addresses);
    }
    char[] password = options.get(TransportOptions.TLS_KEY_STORE_PASSWORD).toCharArray();
    String alias = options.get(TransportOptions.TLS_KEY_ALIAS).orElse(null);
    try {
      KeyStore ks = load(file, password);
      String a = alias != null ? alias : firstKeyEntry(ks);
      if (a == null || !ks.isKeyEntry(a)) {
        throw new IOException("keystore " + file + " has no key entry" + (alias == null ? "" : " named " + alias)
            + " (option " + TransportOptions.TLS_KEY_ALIAS.name() + ")");
      }
      PrivateKey key = (PrivateKey) ks.getKey(a, password);
      Certificate[] chain = ks.getCertificateChain(a);
      X509Certificate[] x509 = new X509Certificate[chain.length];
      for (int i = 0; i < chain.length; i++) {
        x509[i] = (X509Certificate) chain[i];
      }
      return new ListenerIdentity(key, List.of(x509), false);
    } catch (GeneralSecurityException | IOException e) {
      throw new IOException("cannot use keystore " + file + " (option " + TransportOptions.TLS_KEY_STORE.name()
          + ", password from " + TransportOptions.TLS_KEY_STORE_PASSWORD.name() + "): " + e.getMessage(), e);
    }
  }

  /** A new self-signed identity (EC P-256, valid 30 days). */
  public static ListenerIdentity selfSigned(String commonName, List<String> dnsNames, List<InetAddress> addresses)
      throws IOException {
    try {
      KeyPair keys = SelfSignedCertificates.newEcKeyPair();
      X509Certificate cert = dnsNames.isEmpty() && addresses.isEmpty()
          ? SelfSignedCertificates.create(keys, commonName, Duration.ofDays(30))
          : SelfSignedCertificates.create(keys, commonName, Duration.ofDays(30), dnsNames, addresses);
      return new ListenerIdentity(keys.getPrivate(), List.of(cert), true);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot generate a self-signed TLS certificate: " + e, e);
    }
  }

  /** The listener's own certificate. */
  public X509Certificate certificate() {
    return chain.get(0);
  }

  /** The value of {@code certhash} in the listener's address: hex SHA-256 of {@link #certificate()}. */
  public String certificateHash() {
    return CertificatePins.hashOf(certificate());
  }

  /** The identity as an in-memory PKCS12 keystore under the alias {@code "braid"}, for libraries that want one. */
  public KeyStore toKeyStore(char[] password) throws IOException {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry(ALIAS, key, password, chain.toArray(new X509Certificate[0]));
      return ks;
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot build an in-memory keystore: " + e, e);
    }
  }

  /** The alias {@link #toKeyStore} uses. */
  public static String keyStoreAlias() {
    return ALIAS;
  }

  /** A random password for an in-memory keystore that never leaves the process. */
  public static char[] randomPassword() {
    byte[] b = new byte[16];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b).toCharArray();
  }

  private static KeyStore load(Path file, char[] password) throws IOException, GeneralSecurityException {
    try (InputStream in = Files.newInputStream(file)) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(in, password);
      return ks;
    } catch (IOException pkcs12Failed) {
      try (InputStream again = Files.newInputStream(file)) {
        KeyStore ks = KeyStore.getInstance("JKS");
        ks.load(again, password);
        return ks;
      } catch (IOException | GeneralSecurityException jksFailed) {
        pkcs12Failed.addSuppressed(jksFailed);
        throw pkcs12Failed;
      }
    }
  }

  private static String firstKeyEntry(KeyStore ks) throws GeneralSecurityException {
    for (Enumeration<String> e = ks.aliases(); e.hasMoreElements(); ) {
      String candidate = e.nextElement();
      if (ks.isKeyEntry(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
