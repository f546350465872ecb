package dev.braid.transport.webrtc.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * The dialer's side of the signaling exchange: one blocking {@code POST} of the complete SDP offer
 * with {@link HttpURLConnection} (no client threads stay behind; the connection is not kept alive).
 *
 * <p><b>Thread safety.</b> Stateless; call it from a pool thread, it blocks for up to the timeout.
 */
public final class SignalingClient {
  private static final int MAX_ANSWER_BYTES = 256 * 1024;

  private SignalingClient() {}

  /**
   * Posts {@code offer} to {@code endpoint} and returns the SDP answer.
   *
   * @throws IOException on any failure, with the HTTP status and the server's explanation when there is one
   */
  public static String exchange(URI endpoint, String offer, String bearerToken, Duration timeout) throws IOException {
    URL url = endpoint.toURL();
    HttpURLConnection c = (HttpURLConnection) url.openConnection(java.net.Proxy.NO_PROXY);
    try {
      int ms = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
      c.setConnectTimeout(ms);
      c.setReadTimeout(ms);
      c.setUseCaches(false);
      c.setInstanceFollowRedirects(false);
      c.setRequestMethod("POST");
      c.setDoOutput(true);
      c.setRequestProperty("Content-Type", "application/sdp");
      c.setRequestProperty("Accept", "application/sdp");
      c.setRequestProperty("Connection", "close");
      if (bearerToken != null) {
        c.setRequestProperty("Authorization", "Bearer " + bearerToken);
      }
      byte[] body = offer.getBytes(StandardCharsets.UTF_8);
      c.setFixedLengthStreamingMode(body.length);
      try (OutputStream out = c.getOutputStream()) {
        out.write(body);
      }
      int status = c.getResponseCode();
      if (status != 201) {
        String why = readAll(c.getErrorStream() != null ? c.getErrorStream() : null, 2048);
        throw new IOException("webrtc: the signaling endpoint " + endpoint + " answered HTTP " + status
            + (why.isBlank() ? "" : ": " + why.strip()));
      }
      String type = c.getContentType();
      if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/sdp")) {
        throw new IOException("webrtc: the signaling endpoint " + endpoint + " answered with Content-Type " + type
            + ", expected application/sdp");
      }
      return readAll(c.getInputStream(), MAX_ANSWER_BYTES);
    } finally {
      c.disconnect();
    }
  }

  private static String readAll(InputStream in, int limit) throws IOException {
    if (in == null) {
      return "";
    }
    try (InputStream s = in) {
      byte[] b = s.readNBytes(limit + 1);
      if (b.length > limit) {
        throw new IOException("webrtc: the signaling response exceeds " + limit + " bytes");
      }
      return new String(b, StandardCharsets.UTF_8);
    }
  }
}
