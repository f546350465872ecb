package dev.braid.transport.tcp;

import dev.braid.OptionKey;
import dev.braid.TransportOptions;

/**
 * The TCP transport's settings: the {@linkplain TransportOptions#properties() properties} it reads, as typed
 * {@link OptionKey}s. The transport reads each one only through {@link TransportOptions#get(OptionKey)}, when it
 * is created, so a bad value fails {@link TcpTransportProvider#create} with the key's message (say
 * {@code option tcp.eventLoopThreads must be an integer from 1 to 1024, was "many"}).
 *
 * <p>A TLS listener also reads the keys every TLS transport shares, {@link TransportOptions#TLS_KEY_STORE}
 * ({@code tls.keyStore}), {@link TransportOptions#TLS_KEY_STORE_PASSWORD} ({@code tls.keyStorePassword}) and
 * {@link TransportOptions#TLS_KEY_ALIAS} ({@code tls.keyAlias}): its key and certificate come from that PKCS12
 * or JKS file instead of a self-signed certificate made at run time. Their values are checked at creation too.
 *
 * <p><b>Thread safety.</b> Constants only.
 */
public final class TcpOptions {
  private TcpOptions() {}

  /** Netty's I/O flavour, the values of {@link #IO}. */
  public enum Io {
    /** Linux epoll when its native library loads, else Java NIO. */
    AUTO,
    /** Linux epoll; falls back to NIO, with a warning, when its native library does not load. */
    EPOLL,
    /** Java NIO. */
    NIO
  }

  /**
   * {@code tls}: whether {@code tcp://} addresses use TLS, as {@code tcp+tls://} addresses always do
   * (default {@code false}).
   */
  public static final OptionKey<Boolean> TLS = OptionKey.bool("tcp.tls", false);

  /** {@code io}: {@code auto} (the default), {@code epoll} or {@code nio}; see {@link Io}. */
  public static final OptionKey<Io> IO = OptionKey.oneOf("tcp.io", Io.class, Io.AUTO);

  /**
   * {@code tcp.eventLoopThreads}: how many I/O threads one transport runs, from 1 to 1024 (default: the smaller of 2
   * and the number of processors). Every connection lives on one of them.
   */
  public static final OptionKey<Integer> EVENT_LOOP_THREADS = OptionKey.integer("tcp.eventLoopThreads",
      Math.min(2, Runtime.getRuntime().availableProcessors()), 1, 1024);

  /**
   * {@code tcp.maxStreamWindow}: the largest receive window one stream's auto-tuning may grow to, in bytes (default
   * 16 MiB, from 256 KiB to 1 GiB). A stream starts with {@link TransportOptions#receiveWindow()} and doubles its window
   * whenever the application consumed a window in less than four round trips (measured with yamux pings), as
   * go-yamux does. A value at or below the receive window turns auto-tuning off.
   */
  public static final OptionKey<Integer> MAX_STREAM_WINDOW = OptionKey.integer("tcp.maxStreamWindow", 16 << 20,
      256 << 10, 1 << 30);

  /**
   * {@code tcp.windowBudget}: how many bytes one connection's streams may grow their receive windows by, together,
   * beyond the receive window every stream is guaranteed (default 64 MiB, from 0 to 16 GiB). A stream that cannot
   * grow keeps its window. So a connection whose reader stalls buffers at most
   * {@code streams × receiveWindow + windowBudget}. A grown window returns to the budget when its stream ends.
   */
  public static final OptionKey<Long> WINDOW_BUDGET = OptionKey.longInteger("tcp.windowBudget", 64L << 20, 0,
      16L << 30);
}
