package dev.braid.transport.webrtc.internal;

import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;

/**
 * {@code webrtc://HOST:PORT} addresses, where HOST:PORT is the listener's HTTP signaling endpoint.
 *
 * <p><b>Thread safety.</b> Stateless; all methods are thread-safe.
 */
public final class WebRtcAddress {
  private WebRtcAddress() {}

  /** The signaling endpoint's socket address of {@code address}; throws {@link IllegalArgumentException} if it is none. */
  static InetSocketAddress parse(URI address) {
    if (address == null || !WebRtcTransport.ID.equalsIgnoreCase(address.getScheme())) {
      throw new IllegalArgumentException("not a webrtc address (webrtc://HOST:PORT): " + address);
    }
    if (address.getHost() == null || address.getPort() < 0) {
      throw new IllegalArgumentException("a webrtc address needs a host and a port (webrtc://HOST:PORT): " + address);
    }
    return new InetSocketAddress(stripBrackets(address.getHost()), address.getPort());
  }

  /** {@code HOST:PORT}, with an IPv6 host in brackets. */
  public static String hostPort(String host, int port) {
    String h = stripBrackets(host);
    return (h.contains(":") ? "[" + h + "]" : h) + ":" + port;
  }

  /** {@code webrtc://HOST:PORT}. */
  static URI uri(String host, int port) {
    return URI.create(WebRtcTransport.ID + "://" + hostPort(host, port));
  }

  private static String stripBrackets(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  /** Our source address towards {@code target}, found by a UDP connect (which sends nothing). */
  static URI localAddressTowards(InetSocketAddress target) throws IOException {
    if (target.isUnresolved()) {
      throw new IOException("cannot resolve " + target.getHostString());
    }
    try (DatagramSocket s = new DatagramSocket()) {
      s.connect(target);
      InetAddress a = s.getLocalAddress();
      return uri(a.getHostAddress(), 0);
    }
  }
}
