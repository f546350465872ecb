package dev.braid.transport.quic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.transport.quic.internal.CertificatePin;
import dev.braid.transport.quic.internal.SelfSignedCertificate;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The run-time certificate generator and the certhash pin. */
class SelfSignedCertificateTest {

  @Test
  void generatesAValidSelfSignedEcCertificate() throws Exception {
    SelfSignedCertificate c = SelfSignedCertificate.generate("braid", Duration.ofDays(1), List.of("10.0.0.7"));
    X509Certificate cert = c.certificate();
    cert.checkValidity();
    cert.verify(c.keyPair().getPublic()); // self-signed
    assertEquals(3, cert.getVersion());
    assertEquals("CN=braid", cert.getSubjectX500Principal().getName());
    assertEquals("SHA256withECDSA", cert.getSigAlgName());
    assertEquals("EC", cert.getPublicKey().getAlgorithm());
    Collection<List<?>> sans = cert.getSubjectAlternativeNames();
    assertTrue(sans.contains(List.of(2, "localhost")), sans.toString());
    assertTrue(sans.contains(List.of(2, "10.0.0.7")), sans.toString());
    assertTrue(sans.contains(List.of(7, "127.0.0.1")), sans.toString());
    assertTrue(sans.contains(List.of(2, "::1")), sans.toString());
    assertTrue(sans.contains(List.of(7, "0:0:0:0:0:0:0:1")), sans.toString());
    KeyStore ks = c.toKeyStore("a", "pw".toCharArray());
    assertEquals(cert, ks.getCertificate("a"));
    assertTrue(ks.isKeyEntry("a"));
  }

  @Test
  void aHostNameTheCertificateCannotCarryFailsAsASecurityException() {
    GeneralSecurityException e = assertThrows(GeneralSecurityException.class,
        () -> SelfSignedCertificate.generate("braid", Duration.ofDays(1), List.of("bücher.example")));
    assertTrue(e.getMessage().contains("bücher.example"), e.getMessage());
  }

  @Test
  void eachCertificateIsFresh() throws Exception {
    SelfSignedCertificate a = SelfSignedCertificate.generate("braid", Duration.ofDays(1));
    SelfSignedCertificate b = SelfSignedCertificate.generate("braid", Duration.ofDays(1));
    assertTrue(!SelfSignedCertificate.sha256Hex(a.certificate()).equals(SelfSignedCertificate.sha256Hex(b.certificate())));
    assertEquals(64, SelfSignedCertificate.sha256Hex(a.certificate()).length());
  }

  @Test
  void pinAcceptsOnlyTheHashedCertificate() throws Exception {
    SelfSignedCertificate a = SelfSignedCertificate.generate("braid", Duration.ofDays(1));
    SelfSignedCertificate b = SelfSignedCertificate.generate("braid", Duration.ofDays(1));
    CertificatePin pin = new CertificatePin(SelfSignedCertificate.sha256Hex(a.certificate()));
    pin.checkServerTrusted(new X509Certificate[] {a.certificate()}, "ECDHE_ECDSA");
    CertificateException e = assertThrows(CertificateException.class,
        () -> pin.checkServerTrusted(new X509Certificate[] {b.certificate()}, "ECDHE_ECDSA"));
    assertTrue(e.getMessage().contains("does not match the pinned certhash"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new CertificatePin("abc"));
  }
}
