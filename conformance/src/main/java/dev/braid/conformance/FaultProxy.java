package dev.braid.conformance;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fault-injecting loopback proxy between a dialer and a listener, for tests: for UDP it drops, delays
 * and reorders datagrams (QUIC over a lossy path); for TCP it relays bytes and can cut every connection
 * abruptly (RST), as a crash or a cable pull would. It listens on loopback only and forwards only to the
 * loopback address it was given.
 *
 * <p><b>Thread safety.</b> Thread-safe. {@link #close()} stops every thread it started.
 */
public final class FaultProxy implements AutoCloseable {
  /** The kind of path. */
  public enum Kind { UDP, TCP }

  private final Kind kind;
  private final InetSocketAddress target;
  private final double loss;
  private final int maxDelayMillis;
  private final Random random;
  private final ScheduledExecutorService threads;
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong forwarded = new AtomicLong();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private DatagramChannel udp;
  private ServerSocket tcp;
  private volatile SocketAddress client;
  private volatile boolean closed;
  private volatile boolean blackholed;
  private final AtomicLong swallowed = new AtomicLong();

  private FaultProxy(Kind kind, InetSocketAddress target, double loss, int maxDelayMillis, long seed) {
    if (!target.getAddress().isLoopbackAddress()) {
      throw new IllegalArgumentException("the fault proxy forwards to loopback only, not " + target);
    }
    this.kind = kind;
    this.target = target;
    this.loss = loss;
    this.maxDelayMillis = maxDelayMillis;
    this.random = new Random(seed);
    this.threads = Executors.newScheduledThreadPool(2, r -> {
      Thread t = new Thread(r, "braid-fault-proxy");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * A UDP proxy to {@code target} that drops each datagram with probability {@code loss} and delays each by
   * 0..{@code maxDelayMillis} ms at random (so datagrams also overtake each other).
   */
  public static FaultProxy udp(InetSocketAddress target, double loss, int maxDelayMillis, long seed) throws IOException {
    FaultProxy p = new FaultProxy(Kind.UDP, target, loss, maxDelayMillis, seed);
    p.startUdp();
    return p;
  }

  /** A TCP relay to {@code target} whose connections {@link #cutAll()} can kill abruptly. */
  public static FaultProxy tcp(InetSocketAddress target) throws IOException {
    FaultProxy p = new FaultProxy(Kind.TCP, target, 0, 0, 0);
    p.startTcp();
    return p;
  }

  /** The same URI with host and port replaced by this proxy's. */
  public URI rewrite(URI address) {
    try {
      return new URI(address.getScheme(), address.getUserInfo(), "127.0.0.1", port(), address.getPath(),
          address.getQuery(), address.getFragment());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** The proxy's loopback port. */
  public int port() {
    return kind == Kind.UDP ? ((InetSocketAddress) localAddress(udp)).getPort() : tcp.getLocalPort();
  }

  /** Datagrams dropped so far. */
  public long dropped() {
    return dropped.get();
  }

  /** Datagrams forwarded so far. */
  public long forwarded() {
    return forwarded.get();
  }

  private static SocketAddress localAddress(DatagramChannel c) {
    try {
      return c.getLocalAddress();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private void startUdp() throws IOException {
    udp = DatagramChannel.open();
    udp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    threads.execute(() -> {
      ByteBuffer buf = ByteBuffer.allocate(65536);
      while (!closed) {
        try {
          buf.clear();
          SocketAddress from = udp.receive(buf);
          if (from == null) {
            continue;
          }
          buf.flip();
          if (blackholed) {
            swallowed.incrementAndGet();
            continue;
          }
          byte[] datagram = new byte[buf.remaining()];
          buf.get(datagram);
          SocketAddress to;
          if (from.equals(target)) {
            to = client;
          } else {
            client = from;
            to = target;
          }
          if (to == null) {
            continue;
          }
          double dice;
          int delay;
          synchronized (random) {
            dice = random.nextDouble();
            delay = maxDelayMillis == 0 ? 0 : random.nextInt(maxDelayMillis + 1);
          }
          if (dice < loss) {
            dropped.incrementAndGet();
            continue;
          }
          SocketAddress dest = to;
          threads.schedule(() -> send(datagram, dest), delay, TimeUnit.MILLISECONDS);
        } catch (IOException e) {
          if (!closed) {
            System.getLogger(FaultProxy.class.getName()).log(System.Logger.Level.WARNING, "fault proxy: " + e);
          }
          return;
        }
      }
    });
  }

  private void send(byte[] datagram, SocketAddress to) {
    try {
      udp.send(ByteBuffer.wrap(datagram), to);
      forwarded.incrementAndGet();
    } catch (IOException e) {
      if (!closed) {
        System.getLogger(FaultProxy.class.getName()).log(System.Logger.Level.DEBUG, "fault proxy send: " + e);
      }
    }
  }

  private void startTcp() throws IOException {
    tcp = new ServerSocket();
    tcp.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    Thread acceptor = new Thread(() -> {
      while (!closed) {
        try {
          Socket in = tcp.accept();
          Socket out = new Socket(target.getAddress(), target.getPort());
          sockets.add(in);
          sockets.add(out);
          relay(in, out);
          relay(out, in);
        } catch (IOException e) {
          return; // closed
        }
      }
    }, "braid-fault-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private void relay(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[64 * 1024];
      try {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        int n;
        while ((n = in.read(buf)) >= 0) {
          if (blackholed) {
            swallowed.addAndGet(n);
            continue;
          }
          out.write(buf, 0, n);
        }
        if (!blackholed) {
          to.shutdownOutput(); // the end's FIN goes on; a black hole swallows it (the sockets stay open until close())
        }
      } catch (IOException e) {
        // cut, or the peer closed: the relay ends
      } finally {
        if (!blackholed) {
          closeQuietly(from);
          closeQuietly(to);
        }
      }
    }, "braid-fault-proxy-relay");
    t.setDaemon(true);
    t.start();
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  /**
   * From now on nothing crosses the proxy, in either direction, and nothing tells either end: relayed TCP bytes,
   * and the FIN of an end that closes, are swallowed while both sockets stay open; UDP datagrams are dropped. To
   * each end the other has vanished without a word, as after a crash or a pulled cable.
   */
  public void blackhole() {
    blackholed = true;
  }

  /** Bytes (TCP) or datagrams (UDP) swallowed since {@link #blackhole()}. */
  public long swallowed() {
    return swallowed.get();
  }

  /** Kills every relayed TCP connection at once with a RST (no FIN, no goodbye). */
  public void cutAll() {
    for (Socket s : sockets) {
      try {
        s.setSoLinger(true, 0);
        s.close();
      } catch (SocketException e) {
        // already closed
      } catch (IOException e) {
        // already closed
      }
    }
    sockets.clear();
  }

  @Override
  public void close() {
    closed = true;
    try {
      if (udp != null) {
        udp.close();
      }
      if (tcp != null) {
        tcp.close();
      }
    } catch (IOException e) {
      System.getLogger(FaultProxy.class.getName()).log(System.Logger.Level.DEBUG, "fault proxy close: " + e);
    }
    cutAll();
    threads.shutdownNow();
  }
}
