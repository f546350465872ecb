package dev.braid.transport.quic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.transport.quic.internal.CertificatePin;
import dev.braid.transport.quic.internal.ListenerIdentity;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The listener's run-time self-signed certificate (made by the SPI's SelfSignedCertificates) and the certhash pin. */
class SelfSignedCertificateTest {

  @Test
  void generatesAValidSelfSignedEcCertificate() throws Exception {
    ListenerIdentity c = ListenerIdentity.selfSigned("braid", Duration.ofDays(1), List.of("10.0.0.7"));
    X509Certificate cert = c.certificate();
    cert.checkValidity();
    cert.verify(cert.getPublicKey()); // self-signed
    assertEquals(3, cert.getVersion());
    assertEquals("CN=braid", cert.getSubjectX500Principal().getName());
    assertEquals("SHA256withECDSA", cert.getSigAlgName());
    assertEquals("EC", cert.getPublicKey().getAlgorithm());
    Collection<List<?>> sans = cert.getSubjectAlternativeNames();
    assertTrue(sans.contains(List.of(2, "localhost")), sans.toString());
    assertTrue(sans.contains(List.of(2, "10.0.0.7")), sans.toString());
    assertTrue(sans.contains(List.of(2, "127.0.0.1")), sans.toString()); // kwik matches IP literals as names only
    assertTrue(sans.contains(List.of(7, "127.0.0.1")), sans.toString());
    assertTrue(sans.contains(List.of(2, "::1")), sans.toString());
    assertTrue(sans.contains(List.of(7, "0:0:0:0:0:0:0:1")), sans.toString());
    assertEquals(cert, c.keyStore().getCertificate(c.alias()));
    assertTrue(c.keyStore().isKeyEntry(c.alias()));
    assertEquals(cert.getPublicKey().getAlgorithm(), c.privateKey().getAlgorithm());
  }

  @Test
  void aHostNameTheCertificateCannotCarryFailsAsASecurityException() {
    GeneralSecurityException e = assertThrows(GeneralSecurityException.class,
        () -> ListenerIdentity.selfSigned("braid", Duration.ofDays(1), List.of("bücher.example")));
    assertTrue(e.getMessage().contains("bücher.example"), e.getMessage());
  }

  @Test
  void eachCertificateIsFresh() throws Exception {
    ListenerIdentity a = ListenerIdentity.selfSigned("braid", Duration.ofDays(1), List.of());
    ListenerIdentity b = ListenerIdentity.selfSigned("braid", Duration.ofDays(1), List.of());
    assertNotEquals(a.certHash(), b.certHash());
    assertEquals(64, a.certHash().length());
    assertEquals(a.certHash(), CertificatePin.sha256Hex(a.certificate()));
  }

  @Test
  void pinAcceptsOnlyTheHashedCertificate() throws Exception {
    ListenerIdentity a = ListenerIdentity.selfSigned("braid", Duration.ofDays(1), List.of());
    ListenerIdentity b = ListenerIdentity.selfSigned("braid", Duration.ofDays(1), List.of());
    CertificatePin pin = new CertificatePin(a.certHash());
    pin.checkServerTrusted(new X509Certificate[] {a.certificate()}, "ECDHE_ECDSA");
    CertificateException e = assertThrows(CertificateException.class,
        () -> pin.checkServerTrusted(new X509Certificate[] {b.certificate()}, "ECDHE_ECDSA"));
    assertTrue(e.getMessage().contains("does not match the pinned certhash"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new CertificatePin("abc"));
  }
}
