package dev.braid.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the path emulator promises: bytes and datagrams arrive intact and in order, never sooner than the delay
 * (and, for a bulk transfer, the bandwidth) allows; a half-close crosses it; UDP loss drops what it says. Only
 * lower bounds on time are checked: a slow machine can make the path slower, never faster.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PathEmulatorTest {
  private static final Duration ONE_WAY = Duration.ofMillis(20);

  @Test
  void tcpBytesCrossIntactInOrderWithTheHalfCloseAndNoSoonerThanTheDelayAndBandwidthAllow() throws Exception {
    try (ServerSocket echo = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Void> server = CompletableFuture.runAsync(() -> {
        try (Socket s = echo.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
          in.transferTo(out); // echoes until the client's half-close, then closes
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      // 80 Mbit/s: 1 MiB needs at least 105 ms each way on the link.
      PathEmulator.Profile profile = new PathEmulator.Profile(ONE_WAY, 80_000_000, 0, 0);
      try (PathEmulator path = PathEmulator.tcp((InetSocketAddress) echo.getLocalSocketAddress(), profile);
          Socket s = new Socket(InetAddress.getLoopbackAddress(), path.port())) {
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        long start = System.nanoTime();
        out.write(1);
        assertEquals(1, in.read());
        long rtt = System.nanoTime() - start;
        assertTrue(rtt >= 2 * ONE_WAY.toNanos(), "a round trip took " + rtt / 1e6 + " ms, less than twice the delay");

        byte[] data = new byte[1 << 20];
        new Random(42).nextBytes(data);
        start = System.nanoTime();
        CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> readAll(in));
        out.write(data);
        s.shutdownOutput();
        byte[] echoed = back.get(30, TimeUnit.SECONDS);
        long took = System.nanoTime() - start;
        assertArrayEquals(data, echoed, "the bytes came back intact and in order, then the end of stream");
        // Pipelined: the last byte leaves the up link after the whole megabyte was serialized, then crosses both delays.
        long floor = (long) (data.length * 8e9 / profile.bitsPerSecond()) + 2 * ONE_WAY.toNanos();
        assertTrue(took >= floor, "1 MiB crossed both ways in " + took / 1e6 + " ms, faster than the bandwidth allows");
      }
      server.get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void udpDatagramsCrossInOrderNoSoonerThanTheDelayAndLossDropsThem() throws Exception {
    try (DatagramChannel echo = DatagramChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
      Thread reflector = new Thread(() -> {
        ByteBuffer b = ByteBuffer.allocate(2048);
        try {
          while (true) {
            b.clear();
            SocketAddress from = echo.receive(b);
            b.flip();
            echo.send(b, from);
          }
        } catch (IOException closed) {
          // the test is over
        }
      });
      reflector.setDaemon(true);
      reflector.start();
      InetSocketAddress target = (InetSocketAddress) echo.getLocalAddress();
      try (PathEmulator path = PathEmulator.udp(target, new PathEmulator.Profile(ONE_WAY, 100_000_000, 0, 1));
          DatagramChannel client = DatagramChannel.open()) {
        client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), path.port()));
        long start = System.nanoTime();
        for (int i = 0; i < 50; i++) {
          client.write(ByteBuffer.allocate(4).putInt(0, i));
        }
        for (int i = 0; i < 50; i++) {
          ByteBuffer b = ByteBuffer.allocate(16);
          client.read(b);
          assertEquals(i, b.getInt(0), "datagrams arrive in order");
        }
        long took = System.nanoTime() - start;
        assertTrue(took >= 2 * ONE_WAY.toNanos(), "50 round trips in " + took / 1e6 + " ms: less than the delay");
        assertEquals(0, path.dropped());
      }
      try (PathEmulator path = PathEmulator.udp(target, new PathEmulator.Profile(ONE_WAY, 100_000_000, 1.0, 1));
          DatagramChannel client = DatagramChannel.open()) {
        client.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), path.port()));
        for (int i = 0; i < 20; i++) {
          client.write(ByteBuffer.allocate(4).putInt(0, i));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (path.dropped() < 20) {
          assertTrue(System.nanoTime() < deadline, "timed out waiting for 20 drops, saw " + path.dropped());
          Thread.sleep(5);
        }
      }
    }
  }

  @Test
  void badProfilesAreRefusedWithTheirValue() {
    assertThrows(IllegalArgumentException.class, () -> new PathEmulator.Profile(Duration.ofMillis(-1), 1, 0, 0));
    assertThrows(IllegalArgumentException.class, () -> new PathEmulator.Profile(ONE_WAY, 0, 0, 0));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new PathEmulator.Profile(ONE_WAY, 1, 1.5, 0));
    assertTrue(e.getMessage().contains("1.5"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> PathEmulator.tcp(new InetSocketAddress("192.0.2.1", 80), PathEmulator.Profile.rtt(ONE_WAY, 10)));
  }

  private static byte[] readAll(InputStream in) {
    try {
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      in.transferTo(all);
      return all.toByteArray();
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
  }
}
