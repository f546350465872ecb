package dev.braid.transport.quic.internal;

import dev.braid.TransportOptions;
import dev.braid.tls.SelfSignedCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.UnknownHostException;
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
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The key and certificate a QUIC listener presents, in the PKCS12 key store kwik's {@code ServerConnector} takes: the
 * key store of the {@code keyStore}, {@code keyStorePassword} and {@code keyAlias} properties, or by default a fresh
 * self-signed certificate made by the SPI's {@link SelfSignedCertificates} (EC P-256, ecdsa-with-SHA256). Its SHA-256
 * ({@link #certHash()}, {@link CertificatePin#sha256Hex}) is the listener address's {@code certhash}, which dialers pin.
 * No key touches the disk.
 *
 * @param keyStore holds the key and certificate under {@code alias}
 * @param alias the key entry's alias
 * @param password the key store's and the key entry's password
 * @param certificate the certificate the listener presents
 */
public record ListenerIdentity(KeyStore keyStore, String alias, char[] password, X509Certificate certificate) {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic");
  private static final String ALIAS = "braid";
  private static final Duration VALIDITY = Duration.ofDays(30);

  /** A listener's identity from {@code options} for a listener bound to {@code host}. */
  static ListenerIdentity forListener(TransportOptions options, String host) throws IOException {
    try {
      if (options.property("keyStore").isPresent()) {
        return fromKeyStore(Path.of(options.property("keyStore").get()),
            options.property("keyStorePassword").orElse("").toCharArray(), options.property("keyAlias").orElse(null));
      }
      return selfSigned("braid", VALIDITY, hostNamesFor(host));
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot make the QUIC listener's certificate: " + e, e);
    }
  }

  /**
   * A fresh key pair and a certificate for it, valid from one hour ago for {@code validity}, whose subjectAltName lists
   * {@code localhost}, {@code 127.0.0.1}, {@code ::1} and {@code hostNames} as dNSName entries, and the loopback
   * addresses as iPAddress entries. kwik's TLS client (agent15) matches the dialed host only against dNSName entries,
   * even an IP literal, so a listener lists the literal addresses it can be dialed at as names too. A host name that is
   * empty or not ASCII fails with a {@link GeneralSecurityException}.
   */
  public static ListenerIdentity selfSigned(String commonName, Duration validity, List<String> hostNames)
      throws GeneralSecurityException {
    KeyPair keys = SelfSignedCertificates.newEcKeyPair();
    LinkedHashSet<String> dnsNames = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1"));
    dnsNames.addAll(hostNames);
    X509Certificate cert;
    try {
      cert = SelfSignedCertificates.create(keys, commonName, validity, List.copyOf(dnsNames),
          List.of(address(127, 0, 0, 1), address(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)));
    } catch (IllegalArgumentException e) { // e.g. a host name that is not ASCII: the listener reports an IOException
      throw new GeneralSecurityException("cannot make a certificate for " + dnsNames + ": " + e.getMessage(), e);
    }
    char[] password = Long.toHexString(new SecureRandom().nextLong()).toCharArray();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try {
      ks.load(null, null);
    } catch (IOException e) {
      throw new GeneralSecurityException("cannot initialise an empty PKCS12 key store", e);
    }
    ks.setKeyEntry(ALIAS, keys.getPrivate(), password, new Certificate[] {cert});
    return new ListenerIdentity(ks, ALIAS, password, cert);
  }

  /** The PKCS12 key store at {@code path}; its first entry unless {@code alias} is given. */
  static ListenerIdentity fromKeyStore(Path path, char[] password, String alias)
      throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(path)) {
      ks.load(in, password);
    }
    String entry = alias != null ? alias : firstAlias(ks);
    if (!(ks.getCertificate(entry) instanceof X509Certificate cert)) {
      throw new IOException("key store " + path + " has no certificate under alias " + entry);
    }
    return new ListenerIdentity(ks, entry, password, cert);
  }

  /** The certificate's SHA-256, as carried in {@code certhash=}. */
  public String certHash() {
    return CertificatePin.sha256Hex(certificate);
  }

  /** The private key of the certificate. */
  public PrivateKey privateKey() throws GeneralSecurityException {
    return (PrivateKey) keyStore.getKey(alias, password);
  }

  private static List<String> hostNamesFor(String host) {
    List<String> names = new ArrayList<>();
    names.add(host);
    try {
      if (InetAddress.getByName(host).isAnyLocalAddress()) {
        for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
          for (InetAddress ia : Collections.list(ni.getInetAddresses())) {
            String s = ia.getHostAddress();
            int scope = s.indexOf('%');
            names.add(scope < 0 ? s : s.substring(0, scope));
          }
        }
      }
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "cannot list local addresses for the certificate: {0}", e.toString());
    }
    return names;
  }

  private static String firstAlias(KeyStore ks) {
    try {
      return ks.aliases().nextElement();
    } catch (GeneralSecurityException | NoSuchElementException e) {
      throw new IllegalArgumentException("the key store holds no entry", e);
    }
  }

  private static InetAddress address(int... octets) {
    byte[] b = new byte[octets.length];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) octets[i];
    }
    try {
      return InetAddress.getByAddress(b);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(e); // only for a wrong length
    }
  }
}
