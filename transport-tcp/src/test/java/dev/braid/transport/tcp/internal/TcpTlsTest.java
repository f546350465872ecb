package dev.braid.transport.tcp.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.tls.CertificatePins;
import dev.braid.tls.SelfSignedCertificates;
import dev.braid.transport.tcp.TcpTransportProvider;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
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
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TCP's TLS contexts, built from the shared pieces ({@code ListenerIdentity}, {@code CertificatePins}): TLS 1.3 only,
 * a pinned dialer checks no host name, and keystore-based listeners publish their certificate's hash.
 */
class TcpTlsTest {
  private static final String PIN = "ab".repeat(32);

  @Test
  void aSelfSignedListenerSpeaksOnlyTls13AndPublishesItsCertificateHash() throws Exception {
    TcpTls tls = TcpTls.forListener(TransportOptions.DEFAULTS);
    assertTrue(tls.certificateHash().matches("[0-9a-f]{64}"), tls.certificateHash());
    SSLEngine server = tls.serverContext().newEngine(ByteBufAllocator.DEFAULT);
    assertArrayEquals(new String[] {"TLSv1.3"}, server.getEnabledProtocols());
    assertNotEquals(tls.certificateHash(), TcpTls.forListener(TransportOptions.DEFAULTS).certificateHash(),
        "each listener makes its own certificate");
  }

  @Test
  void aPinnedDialerChecksNoHostNameAnUnpinnedOneDoes() throws Exception {
    SslContext pinned = TcpTls.clientContext(PIN);
    SSLEngine p = pinned.newEngine(ByteBufAllocator.DEFAULT, "127.0.0.1", 1);
    assertArrayEquals(new String[] {"TLSv1.3"}, p.getEnabledProtocols());
    assertNull(p.getSSLParameters().getEndpointIdentificationAlgorithm());
    SSLEngine unpinned = TcpTls.clientContext(null).newEngine(ByteBufAllocator.DEFAULT, "example.org", 443);
    assertEquals("HTTPS", unpinned.getSSLParameters().getEndpointIdentificationAlgorithm());
  }

  @Test
  void aListenerCanUseAKeyStore(@TempDir Path dir) throws Exception {
    KeyPair keys = SelfSignedCertificates.newEcKeyPair();
    X509Certificate cert = SelfSignedCertificates.create(keys, "braid-keystore", Duration.ofDays(2));
    char[] password = "changeit-at-run-time".toCharArray();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("server", keys.getPrivate(), password, new Certificate[] {cert});
    Path file = dir.resolve("server.p12");
    try (OutputStream out = Files.newOutputStream(file)) {
      ks.store(out, password);
    }
    TransportOptions serverOptions = TransportOptions.builder()
        .property(TransportOptions.TLS_KEY_STORE.name(), file.toString())
        .property(TransportOptions.TLS_KEY_STORE_PASSWORD.name(), new String(password)).build();
    try (Transport server = new TcpTransportProvider().create(serverOptions);
        Transport client = new TcpTransportProvider().create(TransportOptions.DEFAULTS)) {
      Listener l = server.listen(URI.create("tcp+tls://127.0.0.1:0"));
      assertEquals("certhash=" + CertificatePins.hashOf(cert), l.address().getQuery());
      CompletableFuture<Connection> acc = l.accept();
      Connection c = client.dial(l.address()).get(30, TimeUnit.SECONDS);
      assertTrue(c.isOpen());
      acc.get(30, TimeUnit.SECONDS);
    }
    TransportOptions wrongAlias = serverOptions.toBuilder().property(TransportOptions.TLS_KEY_ALIAS.name(), "nope")
        .build();
    try (Transport server = new TcpTransportProvider().create(wrongAlias)) {
      IOException e = assertThrows(IOException.class, () -> server.listen(URI.create("tcp+tls://127.0.0.1:0")));
      assertTrue(e.getMessage().contains("no key entry named nope"), e.getMessage());
    }
    TransportOptions wrongPassword = serverOptions.toBuilder()
        .property(TransportOptions.TLS_KEY_STORE_PASSWORD.name(), "not-it").build();
    try (Transport server = new TcpTransportProvider().create(wrongPassword)) {
      IOException e = assertThrows(IOException.class, () -> server.listen(URI.create("tcp+tls://127.0.0.1:0")));
      assertTrue(e.getMessage().contains("password"), e.getMessage()); // the JDK's words; the file is not named
    }
  }
}
