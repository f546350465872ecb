package dev.braid.transport.tcp.internal;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.Locale;

/**
 * A parsed {@code tcp://host:port} or {@code tcp+tls://host:port[?certhash=HEX]} address.
 *
 * <p><b>Thread safety.</b> Immutable.
 *
 * @param host the host (IPv6 without brackets)
 * @param port the port (0 when listening picks one)
 * @param tls whether TLS is used
 * @param certHash hex SHA-256 of the server certificate to pin, or null
 */
record TcpAddress(String host, int port, boolean tls, String certHash) {

  static TcpAddress parse(URI uri, boolean tlsByDefault) {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    boolean tls;
    if (scheme.equals("tcp")) {
      tls = tlsByDefault;
    } else if (scheme.equals("tcp+tls")) {
      tls = true;
    } else {
      throw new IllegalArgumentException("not a tcp or tcp+tls address: " + uri);
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("the address has no host: " + uri);
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = uri.getPort();
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("the address has no valid port: " + uri);
    }
    String certHash = null;
    String query = uri.getRawQuery();
    if (query != null && !query.isEmpty()) {
      for (String param : query.split("&")) {
        int eq = param.indexOf('=');
        String key = eq < 0 ? param : param.substring(0, eq);
        String value = eq < 0 ? "" : param.substring(eq + 1);
        if (key.equals("certhash")) {
          if (!value.matches("[0-9a-fA-F]{64}")) {
            throw new IllegalArgumentException("certhash must be 64 hex digits (SHA-256): " + uri);
          }
          certHash = value.toLowerCase(Locale.ROOT);
          tls = true;
        } else {
          throw new IllegalArgumentException("unknown parameter '" + key + "' in " + uri);
        }
      }
    }
    return new TcpAddress(host, port, tls, certHash);
  }

  /** The address of a bound or connected socket, {@code scheme://host:port} (IPv6 in brackets, without a zone). */
  static URI uri(String scheme, SocketAddress address) {
    if (address instanceof InetSocketAddress a) {
      String host = a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
      if (host.indexOf(':') >= 0) {
        int zone = host.indexOf('%');
        host = "[" + (zone >= 0 ? host.substring(0, zone) : host) + "]";
      }
      return URI.create(scheme + "://" + host + ":" + a.getPort());
    }
    return URI.create(scheme + "://unknown:0");
  }
}
