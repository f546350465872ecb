/**
 * Braid's QUIC transport, on kwik: one bidirectional QUIC stream per {@link dev.braid.MuxedStream}.
 *
 * <p>On the module path, kwik must export its frame, packet, common and impl packages to this module:
 * {@code --add-exports tech.kwik.core/tech.kwik.core.frame=dev.braid.transport.quic} (and likewise for {@code stream},
 * {@code packet}, {@code common}, {@code impl}). Without them the provider reports itself unavailable and says so. It
 * should also open {@code tech.kwik.core.stream} to it ({@code --add-opens}), for the workaround of a kwik race
 * ({@code LockedSendBuffer}); without that Braid warns once and runs with kwik's own send buffers.
 */
module dev.braid.transport.quic {
  requires dev.braid.api;
  requires tech.kwik.core;

  exports dev.braid.transport.quic;

  provides dev.braid.spi.TransportProvider with dev.braid.transport.quic.QuicTransportProvider;
  // braid bench: kwik used directly, what Braid's QUIC is compared with
  provides dev.braid.spi.BenchBaseline with dev.braid.transport.quic.internal.bench.KwikBaseline;
}
