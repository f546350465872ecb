package dev.braid.cli;

import dev.braid.spi.BenchBaseline;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The baseline for TCP: plain JDK sockets over loopback, one socket where Braid uses one stream. The
 * server echoes connections whose first byte is 'E' and reads the others to the end.
 */
final class RawTcpBaseline implements BenchBaseline {
  private ServerSocket server;
  private ExecutorService threads;

  @Override
  public String transportId() {
    return "tcp";
  }

  @Override
  public String name() {
    return "raw JDK TCP socket";
  }

  @Override
  public void start() throws IOException {
    server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
    threads = dev.braid.spi.DaemonThreads.pool("braid-bench-rawtcp-", 0);
    threads.execute(() -> {
      while (!server.isClosed()) {
        try {
          Socket s = server.accept();
          threads.execute(() -> serve(s));
        } catch (IOException e) {
          return; // closed
        }
      }
    });
  }

  private static void serve(Socket s) {
    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
      s.setTcpNoDelay(true);
      byte[] buf = new byte[64 * 1024];
      int n = in.read(buf);
      if (n <= 0) {
        return;
      }
      boolean echo = buf[0] == 'E';
      while (n > 0) {
        if (echo) {
          out.write(buf, 0, n);
        }
        n = in.read(buf);
      }
      s.shutdownOutput();
    } catch (IOException e) {
      // the benchmark closed the socket: nothing to report
    }
  }

  @Override
  public void stop() throws IOException {
    server.close();
    threads.shutdownNow();
  }

  private Socket connect() throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
    s.setTcpNoDelay(true);
    return s;
  }

  @Override
  public double oneStreamThroughput(long bytes) throws Exception {
    try (Socket s = connect()) {
      byte[] chunk = new byte[256 * 1024];
      Arrays.fill(chunk, (byte) 'S');
      long t0 = System.nanoTime();
      OutputStream out = s.getOutputStream();
      for (long left = bytes; left > 0; left -= chunk.length) {
        out.write(chunk, 0, (int) Math.min(chunk.length, left));
      }
      s.shutdownOutput();
      s.getInputStream().read();
      return bytes / 1e6 / ((System.nanoTime() - t0) / 1e9);
    }
  }

  @Override
  public double manyStreamsThroughput(int n, long perStream) throws Exception {
    List<Socket> sockets = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      sockets.add(connect());
    }
    byte[] chunk = new byte[64 * 1024];
    Arrays.fill(chunk, (byte) 'S');
    long t0 = System.nanoTime();
    List<Future<?>> done = new ArrayList<>();
    for (Socket s : sockets) {
      done.add(threads.submit(() -> {
        OutputStream out = s.getOutputStream();
        for (long left = perStream; left > 0; left -= chunk.length) {
          out.write(chunk, 0, (int) Math.min(chunk.length, left));
        }
        s.shutdownOutput();
        s.getInputStream().read();
        return null;
      }));
    }
    for (Future<?> f : done) {
      f.get(120, TimeUnit.SECONDS);
    }
    double mbs = n * perStream / 1e6 / ((System.nanoTime() - t0) / 1e9);
    for (Socket s : sockets) {
      s.close();
    }
    return mbs;
  }

  @Override
  public double openFirstByteMicros(int samples) throws Exception {
    double[] us = new double[samples];
    for (int i = 0; i < samples; i++) {
      long t0 = System.nanoTime();
      try (Socket s = connect()) {
        s.getOutputStream().write('E');
        s.getInputStream().read();
        us[i] = (System.nanoTime() - t0) / 1e3;
      }
    }
    return Bench.median(us);
  }

  @Override
  public double roundTripMicros(int samples) throws Exception {
    try (Socket s = connect()) {
      byte[] msg = new byte[64];
      Arrays.fill(msg, (byte) 'E');
      byte[] in = new byte[64];
      double[] us = new double[samples];
      for (int i = 0; i < samples; i++) {
        long t0 = System.nanoTime();
        s.getOutputStream().write(msg);
        s.getInputStream().readNBytes(in, 0, 64);
        us[i] = (System.nanoTime() - t0) / 1e3;
      }
      return Bench.median(us);
    }
  }

  @Override
  public double memoryPerIdleStreamBytes(int n) throws Exception {
    long before = Bench.usedHeap();
    List<Socket> sockets = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Socket s = connect();
      s.getOutputStream().write('S');
      sockets.add(s);
    }
    Thread.sleep(200);
    long after = Bench.usedHeap();
    for (Socket s : sockets) {
      s.close();
    }
    return Math.max(0, after - before) / (double) n;
  }
}
