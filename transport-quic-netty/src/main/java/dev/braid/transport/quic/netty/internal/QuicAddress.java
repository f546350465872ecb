package dev.braid.transport.quic.netty.internal;

import java.net.URI;
import java.util.Locale;

/**
 * A parsed {@code quic://host:port?certhash=HEX} address: the same syntax as the kwik transport's (both implement
 * {@code quic://}; this copy keeps the two plugins independent of each other).
 *
 * @param host the host, without IPv6 brackets
 * @param port the UDP port (0 to pick one, when listening)
 * @param certHash the pinned SHA-256 of the server certificate (64 hex digits), or null
 */
record QuicAddress(String host, int port, String certHash) {
  static final String SCHEME = "quic";

  static QuicAddress parse(URI uri, boolean listening) {
    if (uri == null || !SCHEME.equalsIgnoreCase(uri.getScheme())) {
      throw new IllegalArgumentException("not a quic:// address: " + uri);
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("quic address has no host: " + uri);
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port = uri.getPort();
    if (port < 0 || (!listening && port == 0)) {
      throw new IllegalArgumentException("quic address needs a port" + (listening ? "" : " other than 0") + ": " + uri);
    }
    String hash = null;
    String query = uri.getRawQuery();
    if (query != null) {
      for (String part : query.split("&")) {
        int eq = part.indexOf('=');
        String key = eq < 0 ? part : part.substring(0, eq);
        String value = eq < 0 ? "" : part.substring(eq + 1);
        if (key.equals("certhash")) {
          hash = value.toLowerCase(Locale.ROOT);
          if (!hash.matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException("certhash must be 64 hex digits (SHA-256): " + uri);
          }
        }
      }
    }
    return new QuicAddress(host, port, hash);
  }

  URI toUri() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return URI.create(SCHEME + "://" + h + ":" + port + (certHash == null ? "" : "?certhash=" + certHash));
  }
}
