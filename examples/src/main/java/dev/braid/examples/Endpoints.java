package dev.braid.examples;

import dev.braid.Braid;
import dev.braid.TransportOptions;
import dev.braid.TransportRegistry;
import dev.braid.TransportUnavailableException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;

/**
 * Where the examples find their transport: by the URI's scheme, among every transport {@link TransportRegistry}
 * finds on the class path; with {@code --transport ID}, that provider only (to pick one of two implementations of a
 * scheme, e.g. {@code quic-netty} for {@code quic://}). Nothing here names a transport.
 */
final class Endpoints {
  private Endpoints() {}

  /** {@code text} as an absolute URI with a scheme, or a usage error saying what is missing. */
  static URI parse(String text) throws UsageException {
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      throw new UsageException("not a URI: " + text + " (" + e.getReason() + ")");
    }
    if (uri.getScheme() == null) {
      throw new UsageException("the URI has no scheme: " + text + " (e.g. tcp://127.0.0.1:4001, quic://..., webrtc://...)");
    }
    return uri;
  }

  /**
   * A Braid over every transport found here, or over the one with id {@code transportId} when it is not null.
   *
   * @throws TransportUnavailableException if {@code transportId} names no transport, or one that cannot run here
   */
  static Braid braid(String transportId, Duration connectTimeout) throws TransportUnavailableException {
    TransportRegistry all = TransportRegistry.load();
    TransportRegistry registry = transportId == null ? all : TransportRegistry.of(List.of(all.forId(transportId)));
    return Braid.create(registry, TransportOptions.builder().connectTimeout(connectTimeout).build());
  }
}
