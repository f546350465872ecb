package dev.braid.transport.quic.netty.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.UnknownHostException;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * What a listener's generated certificate names. kwik's TLS client (the other {@code quic://} implementation, which
 * may dial this listener) checks the dialed host against dNSName entries only, even for an IP literal: the
 * certificate lists the listen address, {@code localhost}, the loopback literals and, for a wildcard listener, every
 * local address, as dNSName entries too.
 *
 * @param dnsNames the dNSName entries
 * @param addresses the iPAddress entries
 */
record CertificateNames(List<String> dnsNames, List<InetAddress> addresses) {
  private static final System.Logger LOG = System.getLogger("dev.braid.transport.quic.netty");

  static CertificateNames of(String host) {
    LinkedHashSet<String> names = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1", host));
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
    } catch (IOException e) { // the listener then cannot be dialed at its other addresses by kwik; bind reports the rest
      LOG.log(System.Logger.Level.WARNING, "cannot list the local addresses for a QUIC listener''s certificate: {0}",
          e.toString());
    }
    try {
      return new CertificateNames(List.copyOf(names), List.of(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}),
          InetAddress.getByAddress(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})));
    } catch (UnknownHostException e) {
      throw new IllegalStateException("literal loopback addresses of the right length", e); // cannot happen
    }
  }
}
