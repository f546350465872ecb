package dev.braid;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Limits, windows and timeouts for a transport, each with a default. A peer that exceeds a limit is
 * refused, not obeyed. Transport-specific settings travel as string {@linkplain #property properties}
 * (e.g. {@code tcp.tls=true}, {@code quic.alpn=braid}); a transport names its keys after itself, declares them as {@link OptionKey}s and reads them with {@link #get(OptionKey)}.
 *
 * <p>Immutable and thread-safe.
 */
public final class TransportOptions {
  /** The defaults. */
  public static final TransportOptions DEFAULTS = builder().build();

  /** A TLS listener's keystore file (PKCS12 or JKS); without it the listener makes a self-signed certificate. */
  public static final OptionKey<Optional<java.nio.file.Path>> TLS_KEY_STORE = OptionKey.path("tls.keyStore");
  /** The password of {@link #TLS_KEY_STORE} and of its key (default empty). */
  public static final OptionKey<String> TLS_KEY_STORE_PASSWORD = OptionKey.string("tls.keyStorePassword", "");
  /** The key entry of {@link #TLS_KEY_STORE} to use (default: its first key entry). */
  public static final OptionKey<Optional<String>> TLS_KEY_ALIAS = OptionKey.optionalString("tls.keyAlias");

  private final int maxStreams;
  private final int maxPendingInboundStreams;
  private final int receiveWindow;
  private final int maxFrameSize;
  private final Duration connectTimeout;
  private final Duration idleTimeout;
  private final Duration keepAliveInterval;
  private final Map<String, String> properties;

  private TransportOptions(Builder b) {
    this.maxStreams = b.maxStreams;
    this.maxPendingInboundStreams = b.maxPendingInboundStreams;
    this.receiveWindow = b.receiveWindow;
    this.maxFrameSize = b.maxFrameSize;
    this.connectTimeout = b.connectTimeout;
    this.idleTimeout = b.idleTimeout;
    this.keepAliveInterval = b.keepAliveInterval;
    this.properties = Map.copyOf(b.properties);
  }

  /** A builder holding the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.maxStreams = maxStreams;
    b.maxPendingInboundStreams = maxPendingInboundStreams;
    b.receiveWindow = receiveWindow;
    b.maxFrameSize = maxFrameSize;
    b.connectTimeout = connectTimeout;
    b.idleTimeout = idleTimeout;
    b.keepAliveInterval = keepAliveInterval;
    b.properties.putAll(properties);
    return b;
  }

  /**
   * The transport-specific setting {@code key}, parsed; its default when not set.
   *
   * @throws IllegalArgumentException naming the option if its value cannot be parsed
   */
  public <T> T get(OptionKey<T> key) {
    return key.parse(properties.get(key.name()));
  }

  /** Most streams open at once on one connection, counting both sides' (default 4096). */
  public int maxStreams() {
    return maxStreams;
  }

  /** Most inbound streams waiting for {@link Connection#acceptStream()} (default 1024); more are refused. */
  public int maxPendingInboundStreams() {
    return maxPendingInboundStreams;
  }

  /** Per-stream receive window in bytes: how much a peer may send ahead of our reads (default 256 KiB). */
  public int receiveWindow() {
    return receiveWindow;
  }

  /** Largest frame or message accepted from a peer, in bytes (default 256 KiB). */
  public int maxFrameSize() {
    return maxFrameSize;
  }

  /** How long a dial may take (default 10 s). */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** How long a connection may stay silent before it fails (default 60 s). */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /** How often an idle connection is probed, where the protocol can (default 15 s; zero disables). */
  public Duration keepAliveInterval() {
    return keepAliveInterval;
  }

  /** A transport-specific setting. */
  public Optional<String> property(String key) {
    return Optional.ofNullable(properties.get(key));
  }

  /** Every transport-specific setting. */
  public Map<String, String> properties() {
    return properties;
  }

  @Override
  public String toString() {
    return "TransportOptions{maxStreams=" + maxStreams + ", maxPendingInboundStreams=" + maxPendingInboundStreams
        + ", receiveWindow=" + receiveWindow + ", maxFrameSize=" + maxFrameSize + ", connectTimeout=" + connectTimeout
        + ", idleTimeout=" + idleTimeout + ", keepAliveInterval=" + keepAliveInterval
        + ", properties=" + new TreeMap<>(properties).keySet() + "}";
  }

  /** Builds {@link TransportOptions}; every setter checks its argument. Not thread-safe. */
  public static final class Builder {
    private int maxStreams = 4096;
    private int maxPendingInboundStreams = 1024;
    private int receiveWindow = 256 * 1024;
    private int maxFrameSize = 256 * 1024;
    private Duration connectTimeout = Duration.ofSeconds(10);
    private Duration idleTimeout = Duration.ofSeconds(60);
    private Duration keepAliveInterval = Duration.ofSeconds(15);
    private final Map<String, String> properties = new TreeMap<>();

    private Builder() {}

    /** @see TransportOptions#maxStreams() */
    public Builder maxStreams(int value) {
      this.maxStreams = positive("maxStreams", value);
      return this;
    }

    /** @see TransportOptions#maxPendingInboundStreams() */
    public Builder maxPendingInboundStreams(int value) {
      this.maxPendingInboundStreams = positive("maxPendingInboundStreams", value);
      return this;
    }

    /** @see TransportOptions#receiveWindow() */
    public Builder receiveWindow(int value) {
      if (value < 16 * 1024) {
        throw new IllegalArgumentException("receiveWindow must be at least 16384 bytes, was " + value);
      }
      this.receiveWindow = value;
      return this;
    }

    /** @see TransportOptions#maxFrameSize() */
    public Builder maxFrameSize(int value) {
      if (value < 1024) {
        throw new IllegalArgumentException("maxFrameSize must be at least 1024 bytes, was " + value);
      }
      this.maxFrameSize = value;
      return this;
    }

    /** @see TransportOptions#connectTimeout() */
    public Builder connectTimeout(Duration value) {
      this.connectTimeout = positive("connectTimeout", value);
      return this;
    }

    /** @see TransportOptions#idleTimeout() */
    public Builder idleTimeout(Duration value) {
      this.idleTimeout = positive("idleTimeout", value);
      return this;
    }

    /** @see TransportOptions#keepAliveInterval() */
    public Builder keepAliveInterval(Duration value) {
      Objects.requireNonNull(value, "keepAliveInterval");
      if (value.isNegative()) {
        throw new IllegalArgumentException("keepAliveInterval must not be negative, was " + value);
      }
      this.keepAliveInterval = value;
      return this;
    }

    /** Sets a transport-specific setting; a null value removes it. */
    public Builder property(String key, String value) {
      Objects.requireNonNull(key, "key");
      if (value == null) {
        properties.remove(key);
      } else {
        properties.put(key, value);
      }
      return this;
    }

    /** The options. */
    public TransportOptions build() {
      return new TransportOptions(this);
    }

    private static int positive(String name, int value) {
      if (value <= 0) {
        throw new IllegalArgumentException(name + " must be positive, was " + value);
      }
      return value;
    }

    private static Duration positive(String name, Duration value) {
      Objects.requireNonNull(value, name);
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, was " + value);
      }
      return value;
    }
  }
}
