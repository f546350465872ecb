package dev.braid.conformance;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A userspace wide-area path between a dialer and a listener on loopback, for benchmarks and tests where the kernel
 * has no netem: each direction is a {@link Link} with a one-way delay, a bandwidth cap and a bounded queue (the bytes
 * in flight plus a router's buffer of one round trip at the cap), and for UDP a seeded random loss.
 *
 * <p>For TCP it relays each connection through two such links. Its own hops to the dialer and the listener are
 * loopback TCP, so what a TCP sender feels is the path's bandwidth and the queue's backpressure, and what a
 * protocol above it feels is the delay (its window updates and acknowledgements cross it); the kernel's congestion
 * control does not see the emulated delay, and TCP loss cannot be emulated without a kernel (bytes of a byte stream
 * cannot be dropped). For UDP every datagram crosses the link: dropped with probability {@code loss}, dropped when
 * the queue is full (drop-tail), otherwise delivered in order after its serialization time and the delay.
 *
 * <p>It listens on loopback only and forwards only to the loopback address it was given. {@link #close()} stops
 * every thread it started and closes every socket.
 *
 * <p><b>Thread safety.</b> Thread-safe.
 */
public final class PathEmulator implements AutoCloseable {
  /**
   * What the path does.
   *
   * @param oneWayDelay the delay each direction adds (the round trip gains twice this)
   * @param bitsPerSecond the bandwidth of each direction
   * @param loss the probability that a datagram is dropped (UDP only), from 0 to 1
   * @param seed the seed of the loss decisions
   */
  public record Profile(Duration oneWayDelay, long bitsPerSecond, double loss, long seed) {
    /** Checks the values. */
    public Profile {
      Objects.requireNonNull(oneWayDelay, "oneWayDelay");
      if (oneWayDelay.isNegative()) {
        throw new IllegalArgumentException("the one-way delay must not be negative, was " + oneWayDelay);
      }
      if (bitsPerSecond <= 0) {
        throw new IllegalArgumentException("the bandwidth must be positive, was " + bitsPerSecond + " bit/s");
      }
      if (!(loss >= 0 && loss <= 1)) {
        throw new IllegalArgumentException("the loss must be from 0 to 1, was " + loss);
      }
    }

    /** A round-trip time of {@code rtt} (half of it each way) at {@code megabitsPerSecond}, without loss. */
    public static Profile rtt(Duration rtt, long megabitsPerSecond) {
      return new Profile(rtt.dividedBy(2), megabitsPerSecond * 1_000_000, 0, 0);
    }

    /**
     * What one direction holds at most: the bytes in flight over the delay plus a router buffer of one round trip,
     * both at the cap (at least 64 KiB).
     */
    long queueBytes() {
      double bytesPerSecond = bitsPerSecond / 8.0;
      return Math.max(64 * 1024, (long) (bytesPerSecond * 3 * oneWayDelay.toNanos() / 1e9));
    }
  }

  private static final System.Logger LOG = System.getLogger(PathEmulator.class.getName());

  private final Profile profile;
  private final InetSocketAddress target;
  private final List<AutoCloseable> resources = new CopyOnWriteArrayList<>();
  private final List<Thread> threads = new CopyOnWriteArrayList<>();
  private final AtomicLong dropped = new AtomicLong();
  private final int port;
  private volatile boolean closed;

  private PathEmulator(Profile profile, InetSocketAddress target, boolean udp) throws IOException {
    if (!target.getAddress().isLoopbackAddress()) {
      throw new IllegalArgumentException("the path emulator forwards to loopback only, not " + target);
    }
    this.profile = Objects.requireNonNull(profile, "profile");
    this.target = target;
    this.port = udp ? startUdp() : startTcp();
  }

  /** A TCP path to {@code target}: every connection made to {@link #port()} is relayed through it. */
  public static PathEmulator tcp(InetSocketAddress target, Profile profile) throws IOException {
    return new PathEmulator(profile, target, false);
  }

  /** A UDP path to {@code target}, for one client (the last address that sent to {@link #port()}). */
  public static PathEmulator udp(InetSocketAddress target, Profile profile) throws IOException {
    return new PathEmulator(profile, target, true);
  }

  /** The emulator's loopback port. */
  public int port() {
    return port;
  }

  /** The same URI with host and port replaced by the emulator's. */
  public URI rewrite(URI address) {
    try {
      return new URI(address.getScheme(), address.getUserInfo(), "127.0.0.1", port, address.getPath(),
          address.getQuery(), address.getFragment());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(e);
    }
  }

  public Profile profile() {
    return profile;
  }

  /** Datagrams dropped so far, by the loss or a full queue. */
  public long dropped() {
    return dropped.get();
  }

  // ---------------------------------------------------------------- TCP

  private int startTcp() throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    resources.add(server);
    thread("accept", () -> {
      while (!closed) {
        Socket client;
        try {
          client = server.accept();
        } catch (IOException e) {
          if (!closed) {
            LOG.log(System.Logger.Level.WARNING, "path emulator: accept failed: " + e);
          }
          return;
        }
        relay(client);
      }
    });
    return server.getLocalPort();
  }

  private void relay(Socket client) {
    Socket server = new Socket();
    resources.add(client);
    resources.add(server);
    try {
      server.connect(target, 10_000);
      client.setTcpNoDelay(true);
      server.setTcpNoDelay(true);
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "path emulator: connecting to " + target + " failed: " + e);
      closeQuietly(client);
      closeQuietly(server);
      return;
    }
    pipe(client, server, "up");
    pipe(server, client, "down");
  }

  /** One direction of a relayed connection: a reader fills the link (blocking when its queue is full), a writer drains it. */
  private void pipe(Socket from, Socket to, String name) {
    Link link = new Link(profile, profile.queueBytes());
    thread(name + "-read", () -> {
      try {
        InputStream in = from.getInputStream(); // not closed here: that would close the socket, both directions
        while (true) {
          byte[] chunk = new byte[16 * 1024];
          int n = in.read(chunk);
          if (n < 0) {
            link.put(null, 0); // end of stream: the writer half-closes after what came before
            return;
          }
          link.put(chunk, n);
        }
      } catch (IOException | InterruptedException e) {
        link.abort();
      }
    });
    thread(name + "-write", () -> {
      try {
        OutputStream out = to.getOutputStream();
        while (true) {
          Link.Packet p = link.take();
          if (p == null) {
            closeQuietly(from);
            closeQuietly(to);
            return;
          }
          if (p.data() == null) {
            to.shutdownOutput();
            return;
          }
          out.write(p.data(), 0, p.length());
        }
      } catch (IOException | InterruptedException e) {
        closeQuietly(from);
        closeQuietly(to);
      }
    });
  }

  // ---------------------------------------------------------------- UDP

  private volatile SocketAddress client;

  private int startUdp() throws IOException {
    DatagramChannel udp = DatagramChannel.open();
    resources.add(udp);
    udp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    Link up = new Link(profile, profile.queueBytes());
    Link down = new Link(profile, profile.queueBytes());
    java.util.SplittableRandom random = new java.util.SplittableRandom(profile.seed());
    thread("udp-receive", () -> {
      ByteBuffer buf = ByteBuffer.allocate(65536);
      try {
        while (!closed) {
          buf.clear();
          SocketAddress from = udp.receive(buf);
          buf.flip();
          boolean fromTarget = from.equals(target);
          if (!fromTarget) {
            client = from;
          }
          byte[] datagram = new byte[buf.remaining()];
          buf.get(datagram);
          if (random.nextDouble() < profile.loss() || !(fromTarget ? down : up).offer(datagram)) {
            dropped.incrementAndGet();
          }
        }
      } catch (IOException e) {
        if (!closed) {
          LOG.log(System.Logger.Level.WARNING, "path emulator: UDP receive failed: " + e);
        }
      } finally {
        up.abort();
        down.abort();
      }
    });
    deliver(udp, up, () -> target, "udp-up");
    deliver(udp, down, () -> client, "udp-down");
    return ((InetSocketAddress) udp.getLocalAddress()).getPort();
  }

  private void deliver(DatagramChannel udp, Link link, java.util.function.Supplier<SocketAddress> to, String name) {
    thread(name, () -> {
      try {
        for (Link.Packet p; (p = link.take()) != null; ) {
          SocketAddress dest = to.get();
          if (dest != null) {
            udp.send(ByteBuffer.wrap(p.data(), 0, p.length()), dest);
          }
        }
      } catch (IOException e) {
        if (!closed) {
          LOG.log(System.Logger.Level.DEBUG, "path emulator: UDP send failed: " + e);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
  }

  // ---------------------------------------------------------------- common

  private void thread(String name, Runnable body) {
    Thread t = new Thread(body, "braid-path-" + name);
    t.setDaemon(true);
    threads.add(t);
    t.start();
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      LOG.log(System.Logger.Level.DEBUG, "path emulator: close: " + e);
    }
  }

  @Override
  public void close() {
    closed = true;
    resources.forEach(PathEmulator::closeQuietly);
    threads.forEach(Thread::interrupt);
    for (Thread t : threads) {
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (t.isAlive()) {
        LOG.log(System.Logger.Level.WARNING, "path emulator: thread " + t.getName() + " did not stop within 5 s");
      }
    }
  }
}
