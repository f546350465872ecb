package dev.braid.transport.quic.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.TransportOptions;
import dev.braid.tls.ListenerIdentity;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The names a QUIC listener's self-signed certificate carries ({@link Kwik0108#certificateNames}): kwik's TLS client
 * matches the dialed host, even an IP literal, against dNSName entries only.
 */
class ListenerCertificateTest {

  @Test
  void theListenHostAndTheLoopbackNamesAreDnsNamesAndTheLoopbackAddressesIpAddresses() throws Exception {
    Kwik0108.CertificateNames names = Kwik0108.certificateNames("10.0.0.7");
    X509Certificate cert = ListenerIdentity.from(TransportOptions.DEFAULTS, "braid", names.dnsNames(),
        names.addresses()).certificate();
    Collection<List<?>> sans = cert.getSubjectAlternativeNames();
    for (String dns : List.of("localhost", "127.0.0.1", "::1", "10.0.0.7")) {
      assertTrue(sans.contains(List.of(2, dns)), dns + " as dNSName: " + sans);
    }
    assertTrue(sans.contains(List.of(7, "127.0.0.1")), sans.toString());
    assertTrue(sans.contains(List.of(7, "0:0:0:0:0:0:0:1")), sans.toString());
    assertEquals(6, sans.size(), "nothing else: " + sans);
  }

  @Test
  void aWildcardListenerNamesEveryLocalAddress() throws Exception {
    List<String> names = Kwik0108.certificateNames("0.0.0.0").dnsNames();
    for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
      for (InetAddress a : Collections.list(ni.getInetAddresses())) {
        String s = a.getHostAddress();
        String literal = s.indexOf('%') < 0 ? s : s.substring(0, s.indexOf('%'));
        assertTrue(names.contains(literal), literal + " in " + names);
      }
    }
    assertEquals(names.size(), names.stream().distinct().count(), "no name twice: " + names);
  }
}
