package dev.braid.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.TransportOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificatePinsAndIdentityTest {
  @Test
  void aPinTrustsExactlyItsCertificate() throws Exception {
    ListenerIdentity mine = ListenerIdentity.selfSigned("braid-test", List.of(), List.of());
    ListenerIdentity other = ListenerIdentity.selfSigned("braid-test", List.of(), List.of());
    X509ExtendedTrustManager pin = CertificatePins.trustOnly(mine.certificateHash().toUpperCase());
    pin.checkServerTrusted(new X509Certificate[] {mine.certificate()}, "EC");
    CertificateException e = assertThrows(CertificateException.class,
        () -> pin.checkServerTrusted(new X509Certificate[] {other.certificate()}, "EC"));
    assertTrue(e.getMessage().contains(other.certificateHash()) && e.getMessage().contains(mine.certificateHash()),
        e.getMessage());
    assertThrows(CertificateException.class, () -> pin.checkServerTrusted(new X509Certificate[0], "EC"));
    assertThrows(CertificateException.class, () -> pin.checkClientTrusted(new X509Certificate[] {mine.certificate()}, "EC"));
  }

  @Test
  void aPinMustBeSixtyFourHexDigits() {
    assertThrows(IllegalArgumentException.class, () -> CertificatePins.trustOnly("abc"));
    assertThrows(IllegalArgumentException.class, () -> CertificatePins.trustOnly("z".repeat(64)));
    assertThrows(IllegalArgumentException.class, () -> CertificatePins.trustOnly(null));
  }

  @Test
  void withoutAKeyStoreTheListenerMakesItsOwnCertificate() throws Exception {
    ListenerIdentity id = ListenerIdentity.from(TransportOptions.DEFAULTS, "braid-test", List.of("localhost"), List.of());
    assertTrue(id.selfSigned());
    assertEquals(64, id.certificateHash().length());
  }

  @Test
  void aConfiguredKeyStoreIsUsedAndABadAliasIsNamed(@TempDir Path dir) throws Exception {
    ListenerIdentity made = ListenerIdentity.selfSigned("braid-keystore", List.of(), List.of());
    char[] password = "secret".toCharArray();
    KeyStore ks = made.toKeyStore(password);
    Path file = dir.resolve("listener.p12");
    try (OutputStream out = Files.newOutputStream(file)) {
      ks.store(out, password);
    }
    TransportOptions options = TransportOptions.builder().property("tls.keyStore", file.toString())
        .property("tls.keyStorePassword", "secret").build();
    ListenerIdentity loaded = ListenerIdentity.from(options, "unused", List.of(), List.of());
    assertFalse(loaded.selfSigned());
    assertEquals(made.certificateHash(), loaded.certificateHash());
    TransportOptions badAlias = options.toBuilder().property("tls.keyAlias", "nope").build();
    IOException e = assertThrows(IOException.class, () -> ListenerIdentity.from(badAlias, "unused", List.of(), List.of()));
    assertTrue(e.getMessage().contains("nope") && e.getMessage().contains("tls.keyAlias"), e.getMessage());
    TransportOptions badPassword = options.toBuilder().property("tls.keyStorePassword", "wrong").build();
    e = assertThrows(IOException.class, () -> ListenerIdentity.from(badPassword, "unused", List.of(), List.of()));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("tls.keyStorePassword"),
        e.getMessage());
  }
}
