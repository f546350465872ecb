package dev.braid.tls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigInteger;
import java.net.InetAddress;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class SelfSignedCertificatesTest {
  private static final HexFormat HEX = HexFormat.of();

  @Test
  void aCertificateWithoutAltNamesIsAValidSelfSignedV3EcCertificate() throws Exception {
    KeyPair keys = SelfSignedCertificates.newEcKeyPair();
    assertEquals(256, ((ECPublicKey) keys.getPublic()).getParams().getCurve().getField().getFieldSize());
    Instant before = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    X509Certificate cert = SelfSignedCertificates.create(keys, "braid-test", Duration.ofDays(2));
    Instant after = Instant.now();
    cert.checkValidity();
    cert.verify(keys.getPublic());
    assertEquals(3, cert.getVersion());
    assertEquals("CN=braid-test", cert.getSubjectX500Principal().getName());
    assertEquals(cert.getSubjectX500Principal(), cert.getIssuerX500Principal());
    assertEquals("SHA256withECDSA", cert.getSigAlgName());
    assertEquals("1.2.840.10045.4.3.2", cert.getSigAlgOID());
    assertEquals(keys.getPublic(), cert.getPublicKey());
    assertNull(cert.getSubjectAlternativeNames());
    assertNull(cert.getExtensionValue("2.5.29.17"));
    // valid from one hour before creation, for the given duration after it (whole seconds)
    Instant notBefore = cert.getNotBefore().toInstant();
    Instant notAfter = cert.getNotAfter().toInstant();
    assertTrue(!notBefore.isBefore(before.minus(Duration.ofHours(1))) && !notBefore.isAfter(after.minus(Duration.ofHours(1))),
        notBefore + " not within [" + before + ", " + after + "] - 1 h");
    assertTrue(!notAfter.isBefore(before.plus(Duration.ofDays(2))) && !notAfter.isAfter(after.plus(Duration.ofDays(2))),
        notAfter.toString());
  }

  @Test
  void altNamesCarryTheGivenHostNamesAndAddresses() throws Exception {
    KeyPair keys = SelfSignedCertificates.newEcKeyPair();
    X509Certificate cert = SelfSignedCertificates.create(keys, "braid", Duration.ofDays(1),
        List.of("localhost", "127.0.0.1", "::1", "peer.example"),
        List.of(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), InetAddress.getByName("::1")));
    cert.verify(keys.getPublic());
    Collection<List<?>> sans = cert.getSubjectAlternativeNames();
    assertEquals(List.of(List.of(2, "localhost"), List.of(2, "127.0.0.1"), List.of(2, "::1"), List.of(2, "peer.example"),
        List.of(7, "127.0.0.1"), List.of(7, "0:0:0:0:0:0:0:1")), List.copyOf(sans));
  }

  @Test
  void serialNumbersArePositiveSixteenOctetsAndFresh() throws Exception {
    KeyPair keys = SelfSignedCertificates.newEcKeyPair();
    X509Certificate a = SelfSignedCertificates.create(keys, "braid", Duration.ofDays(1));
    X509Certificate b = SelfSignedCertificates.create(keys, "braid", Duration.ofDays(1));
    for (X509Certificate c : List.of(a, b)) {
      BigInteger serial = c.getSerialNumber();
      assertEquals(1, serial.signum());
      assertEquals(16, serial.toByteArray().length, "fits RFC 5280's 20 octets, no sign octet needed");
    }
    assertNotEquals(a.getSerialNumber(), b.getSerialNumber());
  }

  @Test
  void validityPast2049IsEncodedAsGeneralizedTime() throws Exception {
    KeyPair keys = SelfSignedCertificates.newEcKeyPair();
    X509Certificate cert = SelfSignedCertificates.create(keys, "braid", Duration.ofDays(366 * 40));
    int year = cert.getNotAfter().toInstant().atZone(ZoneOffset.UTC).getYear();
    assertTrue(year >= 2065, "notAfter decoded as " + cert.getNotAfter());
    cert.checkValidity();
  }

  @Test
  void theCertificateAndKeyGoIntoAPkcs12KeyStore() throws Exception {
    KeyPair keys = SelfSignedCertificates.newEcKeyPair();
    X509Certificate cert = SelfSignedCertificates.create(keys, "braid", Duration.ofDays(1), List.of("localhost"), List.of());
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("k", keys.getPrivate(), "pw".toCharArray(), new Certificate[] {cert});
    assertEquals(cert, ks.getCertificate("k"));
    assertEquals(keys.getPrivate(), ks.getKey("k", "pw".toCharArray()));
  }

  @Test
  void badArgumentsAreRejected() throws Exception {
    KeyPair ec = SelfSignedCertificates.newEcKeyPair();
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(1024);
    KeyPair rsaKeys = rsa.generateKeyPair();
    assertThrows(IllegalArgumentException.class, () -> SelfSignedCertificates.create(rsaKeys, "braid", Duration.ofDays(1)));
    assertThrows(IllegalArgumentException.class, () -> SelfSignedCertificates.create(ec, "braid", Duration.ZERO));
    assertThrows(IllegalArgumentException.class,
        () -> SelfSignedCertificates.create(ec, "braid", Duration.ofDays(1), List.of("bücher.example"), List.of()));
    assertThrows(NullPointerException.class, () -> SelfSignedCertificates.create(ec, null, Duration.ofDays(1)));
  }

  // ---------------------------------------------------------------- the DER writer

  @Test
  void derLengthsUseTheShortestForm() {
    assertEquals("0400", HEX.formatHex(SelfSignedCertificates.tlv(0x04, new byte[0])));
    assertEquals("047f", HEX.formatHex(SelfSignedCertificates.tlv(0x04, new byte[0x7f])).substring(0, 4));
    assertEquals("048180", HEX.formatHex(SelfSignedCertificates.tlv(0x04, new byte[0x80])).substring(0, 6));
    assertEquals("0481ff", HEX.formatHex(SelfSignedCertificates.tlv(0x04, new byte[0xff])).substring(0, 6));
    assertEquals("04820100", HEX.formatHex(SelfSignedCertificates.tlv(0x04, new byte[0x100])).substring(0, 8));
    assertEquals("0483010000", HEX.formatHex(SelfSignedCertificates.tlv(0x04, new byte[0x10000])).substring(0, 10));
    assertEquals(0x10000 + 5, SelfSignedCertificates.tlv(0x04, new byte[0x10000]).length);
  }

  @Test
  void derOidsIntegersAndTimes() {
    assertEquals("06082a8648ce3d040302", HEX.formatHex(SelfSignedCertificates.oid("1.2.840.10045.4.3.2")));
    assertEquals("0603551d11", HEX.formatHex(SelfSignedCertificates.oid("2.5.29.17")));
    assertEquals("020102", HEX.formatHex(SelfSignedCertificates.integer(BigInteger.TWO)));
    assertEquals("02020080", HEX.formatHex(SelfSignedCertificates.integer(BigInteger.valueOf(128))));
    assertArrayEquals(SelfSignedCertificates.tlv(0x30, new byte[] {5, 0}),
        SelfSignedCertificates.seq(new byte[] {5}, new byte[] {0}));
    // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050
    assertEquals("170d3439313233313233353935395a",
        HEX.formatHex(SelfSignedCertificates.time(Instant.parse("2049-12-31T23:59:59Z"))));
    assertEquals("180f32303530303130313030303030305a",
        HEX.formatHex(SelfSignedCertificates.time(Instant.parse("2050-01-01T00:00:00Z"))));
  }
}
