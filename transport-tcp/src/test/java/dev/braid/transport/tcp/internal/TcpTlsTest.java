package dev.braid.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.tls.SelfSignedCertificates;
import dev.braid.transport.tcp.TcpTransportProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run-time certificate (from {@link SelfSignedCertificates}) and keystore-based TLS listeners. */
class TcpTlsTest {

  private static KeyPair ecKeys() throws Exception {
    return SelfSignedCertificates.newEcKeyPair();
  }

  @Test
  void theGeneratedCertificateIsAValidSelfSignedX509() throws Exception {
    KeyPair keys = ecKeys();
    X509Certificate cert = SelfSignedCertificates.create(keys, "braid-test", Duration.ofDays(2));
    cert.verify(keys.getPublic()); // the signature over the TBS bytes we encoded
    cert.checkValidity();
    assertEquals(3, cert.getVersion());
    assertEquals("CN=braid-test", cert.getSubjectX500Principal().getName());
    assertEquals(cert.getSubjectX500Principal(), cert.getIssuerX500Principal());
    assertEquals("SHA256withECDSA", cert.getSigAlgName());
    assertEquals(keys.getPublic(), cert.getPublicKey());
    assertTrue(TcpTls.sha256Hex(cert.getEncoded()).matches("[0-9a-f]{64}"));
  }

  @Test
  void aListenerCanUseAKeyStore(@TempDir Path dir) throws Exception {
    KeyPair keys = ecKeys();
    X509Certificate cert = SelfSignedCertificates.create(keys, "braid-keystore", Duration.ofDays(2));
    char[] password = "changeit-at-run-time".toCharArray();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("server", keys.getPrivate(), password, new Certificate[] {cert});
    Path file = dir.resolve("server.p12");
    try (OutputStream out = Files.newOutputStream(file)) {
      ks.store(out, password);
    }
    TransportOptions serverOptions = TransportOptions.builder().property("tls.keyStore", file.toString())
        .property("tls.keyStorePassword", new String(password)).build();
    try (Transport server = new TcpTransportProvider().create(serverOptions);
        Transport client = new TcpTransportProvider().create(TransportOptions.DEFAULTS)) {
      Listener l = server.listen(URI.create("tcp+tls://127.0.0.1:0"));
      assertEquals("certhash=" + TcpTls.sha256Hex(cert.getEncoded()), l.address().getQuery());
      CompletableFuture<Connection> acc = l.accept();
      Connection c = client.dial(l.address()).get(30, TimeUnit.SECONDS);
      assertTrue(c.isOpen());
      acc.get(30, TimeUnit.SECONDS);
    }
    TransportOptions wrongAlias = serverOptions.toBuilder().property("tls.keyAlias", "nope").build();
    try (Transport server = new TcpTransportProvider().create(wrongAlias)) {
      IOException e = assertThrows(IOException.class, () -> server.listen(URI.create("tcp+tls://127.0.0.1:0")));
      assertTrue(e.getMessage().contains("no key entry named nope"), e.getMessage());
    }
  }
}
