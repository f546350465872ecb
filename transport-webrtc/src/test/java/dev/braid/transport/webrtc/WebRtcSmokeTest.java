package dev.braid.transport.webrtc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class WebRtcSmokeTest {
  @Test
  void dialOpenWriteHalfCloseRead() throws Exception {
    NetnsCheck.requireTestNamespace();
    WebRtcTransportProvider p = new WebRtcTransportProvider();
    assertTrue(p.isAvailable(), () -> String.valueOf(p.unavailabilityCause()));
    java.util.Map<String, String> nativeBefore = nativeThreads();
    try (Transport a = p.create(TransportOptions.DEFAULTS); Transport b = p.create(TransportOptions.DEFAULTS)) {
      Listener l = b.listen(p.testListenAddress());
      CompletableFuture<Connection> acc = l.accept();
      Connection d = a.dial(l.address()).get(20, TimeUnit.SECONDS);
      Connection s = acc.get(20, TimeUnit.SECONDS);
      byte[] data = new byte[3_000_000];
      new Random(1).nextBytes(data);
      MuxedStream out = d.openStream().get(10, TimeUnit.SECONDS);
      assertEquals(StreamState.OPEN, out.state());
      CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> {
        try {
          MuxedStream in = s.acceptStream().get(10, TimeUnit.SECONDS);
          InputStream is = in.inputStream();
          byte[] all = is.readAllBytes();
          OutputStream os = in.outputStream();
          os.write("pong".getBytes());
          os.close();
          return all;
        } catch (Exception e) {
          throw new RuntimeException(e);
        }
      });
      OutputStream os = out.outputStream();
      os.write(data);
      os.close();
      assertArrayEquals(data, got.get(30, TimeUnit.SECONDS));
      assertEquals("pong", new String(out.inputStream().readAllBytes()));
      assertEquals(StreamState.CLOSED, out.terminated().get(10, TimeUnit.SECONDS));
      d.close();
      d.closeFuture().get(10, TimeUnit.SECONDS);
      s.closeFuture().handle((v, e) -> null).get(10, TimeUnit.SECONDS);
      l.close();
    }
    // Every native thread libwebrtc started (signaling, network, worker) is gone after close(). What
    // webrtc-java 0.14.0 itself leaks stays bounded: one idle rtc-low-prio per disposed factory (the two
    // transports shared one) and one AudioDeviceBuff per process (the shared audio module).
    java.util.Map<String, String> left = null;
    for (int i = 0; i < 100; i++) {
      left = nativeThreads();
      left.keySet().removeAll(nativeBefore.keySet());
      left.values().removeIf(name -> name.startsWith("braid-events-") || name.startsWith("C2 Compiler")
          || name.startsWith("C1 Compiler") || name.startsWith("VM Periodic") || name.startsWith("G1 ")
          || name.startsWith("GC Thread"));
      long lowPrio = left.values().stream().filter("rtc-low-prio"::equals).count();
      long audio = left.values().stream().filter("AudioDeviceBuff"::equals).count();
      if (lowPrio <= 1 && audio <= 1 && left.size() == lowPrio + audio) {
        break;
      }
      Thread.sleep(50);
    }
    java.util.Map<String, String> unexpected = new java.util.HashMap<>(left);
    unexpected.values().removeIf(n -> n.equals("rtc-low-prio") || n.equals("AudioDeviceBuff"));
    assertTrue(unexpected.isEmpty(), "threads left after Transport.close(): " + left);
    assertTrue(left.values().stream().filter("rtc-low-prio"::equals).count() <= 1, "one factory, one leaked thread: " + left);
  }

  @Test
  void signalingOnLoopbackWorksWhenIceHasAnotherInterface() throws Exception {
    NetnsCheck.requireTestNamespace();
    WebRtcTransportProvider p = new WebRtcTransportProvider();
    try (Transport a = p.create(TransportOptions.DEFAULTS); Transport b = p.create(TransportOptions.DEFAULTS)) {
      // HTTP signaling over the namespace's loopback; ICE still uses the veth address (never loopback).
      Listener l = b.listen(java.net.URI.create("webrtc://127.0.0.1:0"));
      assertEquals("127.0.0.1", l.address().getHost());
      CompletableFuture<Connection> acc = l.accept();
      Connection d = a.dial(l.address()).get(20, TimeUnit.SECONDS);
      Connection s = acc.get(20, TimeUnit.SECONDS);
      MuxedStream out = d.openStream().get(10, TimeUnit.SECONDS);
      out.write(java.nio.ByteBuffer.wrap(new byte[] {42})).get(10, TimeUnit.SECONDS);
      out.closeWrite().get(10, TimeUnit.SECONDS);
      MuxedStream in = s.acceptStream().get(10, TimeUnit.SECONDS);
      assertArrayEquals(new byte[] {42}, in.inputStream().readAllBytes());
      d.close();
      d.closeFuture().get(10, TimeUnit.SECONDS);
      l.close();
    }
  }

  @Test
  void aWriteStillFlushingWhenTheConnectionClosesFailsInsteadOfHanging() throws Exception {
    NetnsCheck.requireTestNamespace();
    WebRtcTransportProvider p = new WebRtcTransportProvider();
    try (Transport a = p.create(TransportOptions.DEFAULTS); Transport b = p.create(TransportOptions.DEFAULTS)) {
      Listener l = b.listen(p.testListenAddress());
      CompletableFuture<Connection> acc = l.accept();
      Connection d = a.dial(l.address()).get(20, TimeUnit.SECONDS);
      acc.get(20, TimeUnit.SECONDS);
      MuxedStream out = d.openStream().get(10, TimeUnit.SECONDS);
      // The peer never reads: its 256 KiB window holds most of the 4 MiB back.
      CompletableFuture<Void> write = out.write(java.nio.ByteBuffer.wrap(new byte[4 << 20]));
      out.close(); // CLOSED at once; the write keeps flushing
      assertEquals(StreamState.CLOSED, out.state());
      d.close();
      java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
          java.util.concurrent.ExecutionException.class, () -> write.get(20, TimeUnit.SECONDS));
      org.junit.jupiter.api.Assertions.assertInstanceOf(dev.braid.ConnectionFailedException.class, e.getCause());
      d.closeFuture().get(20, TimeUnit.SECONDS);
      l.close();
    }
  }

  /** Every OS thread of this process (Java and native), by tid, with its name. */
  static java.util.Map<String, String> nativeThreads() throws java.io.IOException {
    java.util.Map<String, String> m = new java.util.HashMap<>();
    try (java.util.stream.Stream<java.nio.file.Path> tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/task"))) {
      for (java.nio.file.Path t : (Iterable<java.nio.file.Path>) tasks::iterator) {
        try {
          m.put(t.getFileName().toString(), java.nio.file.Files.readString(t.resolve("comm")).trim());
        } catch (java.io.IOException gone) {
          // the thread ended while we looked
        }
      }
    }
    return m;
  }
}
