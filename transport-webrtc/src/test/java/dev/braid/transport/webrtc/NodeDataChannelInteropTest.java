package dev.braid.transport.webrtc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.transport.webrtc.internal.WebRtcAddress;
import dev.braid.transport.webrtc.internal.WebRtcConnection;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A WebRTC stack that shares no code with libwebrtc: libdatachannel (usrsctp, libjuice) through npm's
 * {@code node-datachannel} 0.33.4, driven by {@code src/test/node/peer.cjs}, which writes the libp2p
 * framing itself. It dials the Braid listener through the signaling endpoint; echo with half-close and
 * FIN_ACK both ways, a reset with code 77 from its side, and a Braid-opened half-closed stream are
 * checked on both sides. Needs {@code node} and {@code npm ci} in {@code transport-webrtc/src/test/node};
 * without them the test fails with the command, it never skips.
 *
 * <p>The peer's offer carries no candidates (Braid learns the peer's address from its connectivity checks):
 * libdatachannel 0.24.5 can finish the DTLS handshake inside its own {@code setRemoteDescription}, before
 * it stored the answer whose fingerprint the handshake checks, when the answerer reached it first (see
 * {@code peer.cjs}). {@code BRAID_NODE_PEER_LOG=Verbose} adds libdatachannel's log to the peer's output.
 */
class NodeDataChannelInteropTest {
  private Process node;
  private Transport transport;

  @AfterEach
  void tearDown() throws Exception {
    if (node != null) {
      node.descendants().forEach(ProcessHandle::destroyForcibly);
      node.destroyForcibly();
      node.waitFor(10, TimeUnit.SECONDS);
    }
    if (transport != null) {
      transport.close();
    }
  }

  @Test
  void libdatachannelSpeaksTheFramingBothWays() throws Exception {
    NetnsCheck.requireTestNamespace();
    Path dir = Path.of("src", "test", "node").toAbsolutePath();
    if (!Files.isDirectory(dir.resolve("node_modules").resolve("node-datachannel"))) {
      fail("the node-datachannel peer is not installed: cd transport-webrtc/src/test/node && npm ci");
    }
    String token = "node-" + Long.toHexString(System.nanoTime());
    WebRtcTransportProvider provider = new WebRtcTransportProvider();
    // A short keep-alive interval: the node peer does not speak Braid's keep-alive, so it must never be pinged.
    transport = provider.create(TransportOptions.builder().property(WebRtcOptions.BEARER_TOKEN.name(), token)
        .keepAliveInterval(java.time.Duration.ofMillis(100)).build());
    Listener listener = transport.listen(provider.testListenAddress());
    CompletableFuture<Connection> accepted = listener.accept();
    String signaling = "http://" + WebRtcAddress.hostPort(listener.address().getHost(), listener.address().getPort())
        + "/braid";
    try {
      node = new ProcessBuilder("node", "peer.cjs", signaling, token).directory(dir.toFile())
          .redirectErrorStream(true).start();
    } catch (IOException e) {
      fail("node is not installed (the test needs Node 20 and npm ci in transport-webrtc/src/test/node): " + e);
    }
    CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
      try {
        return new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    });

    // A peer that exits before Braid accepted its connection will never connect: fail at once with its output.
    try {
      CompletableFuture.anyOf(accepted, node.onExit()).get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      node.destroyForcibly();
      throw new AssertionError("the node peer never connected; its output: " + output.get(10, TimeUnit.SECONDS), e);
    }
    if (!accepted.isDone()) {
      throw new AssertionError("the node peer exited (status " + node.waitFor() + ") before Braid accepted its "
          + "connection; its output: " + output.get(10, TimeUnit.SECONDS));
    }
    Connection c = accepted.get();
    Map<String, Object> braid = new ConcurrentHashMap<>();
    List<CompletableFuture<Void>> served = new java.util.concurrent.CopyOnWriteArrayList<>();
    c.setStreamHandler(s -> served.add(CompletableFuture.runAsync(() -> serve(s, braid))));
    MuxedStream b = c.openStream().get(20, TimeUnit.SECONDS);
    b.write(ByteBuffer.wrap("B:from braid".getBytes(StandardCharsets.US_ASCII))).get(20, TimeUnit.SECONDS);
    b.closeWrite().get(20, TimeUnit.SECONDS);
    String reply = new String(b.inputStream().readAllBytes(), StandardCharsets.US_ASCII);

    String text = output.get(90, TimeUnit.SECONDS);
    Map<String, String> r = new HashMap<>();
    for (String line : text.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        r.put(line.substring(0, eq), line.substring(eq + 1).trim());
      }
    }
    assertEquals(null, r.get("error"), () -> "the node peer failed:\n" + text);
    System.getLogger(NodeDataChannelInteropTest.class.getName()).log(System.Logger.Level.INFO,
        "node peer timings (ms): gathered " + r.get("ms_gathered") + ", answered " + r.get("ms_answered")
        + ", connected " + r.get("ms_connected"));
    System.out.println("node peer: " + text.replace('\n', ' '));
    assertEquals("201", r.get("signalingStatus"));
    assertEquals("true", r.get("A_echoOk"), text);
    assertEquals("true", r.get("A_channelClosed"), "the channel closed once FIN/FIN_ACK went both ways");
    assertEquals("B:from braid", r.get("B_received"));
    assertEquals("true", r.get("B_channelClosed"));
    assertEquals("true", r.get("done"), text);
    assertEquals("reply:B:from braid", reply);
    assertEquals(StreamState.CLOSED, b.terminated().get(20, TimeUnit.SECONDS));
    for (CompletableFuture<Void> f : new ArrayList<>(served)) {
      f.get(30, TimeUnit.SECONDS);
    }
    assertEquals(100_000, braid.get("A.length"));
    assertEquals(StreamState.CLOSED, braid.get("A.state"));
    StreamResetException reset = assertInstanceOf(StreamResetException.class, braid.get("R.error"));
    assertEquals(77, reset.code());
    assertTrue(reset.isRemote());
    WebRtcConnection wc = (WebRtcConnection) c;
    assertTrue(!wc.peerSpeaksKeepAlive() && wc.pingsSent() == 0, "node-datachannel announced no keep-alive and was "
        + "never pinged");
    c.close();
    c.closeFuture().handle((v, e) -> null).get(30, TimeUnit.SECONDS);
    listener.close();
  }

  private static void serve(MuxedStream s, Map<String, Object> seen) {
    try {
      ByteBuffer tag = ByteBuffer.allocate(2);
      try {
        while (tag.hasRemaining()) {
          if (s.read(tag).get(30, TimeUnit.SECONDS) < 0) {
            throw new AssertionError("stream ended before its tag");
          }
        }
      } catch (java.util.concurrent.ExecutionException e) {
        if (e.getCause() instanceof StreamResetException) {
          // the peer's reset overtook our read of its tag (a reset discards what was unread): only R is reset
          seen.put("R.error", e.getCause());
          return;
        }
        throw e;
      }
      String t = new String(tag.array(), StandardCharsets.US_ASCII);
      if (t.equals("A:")) {
        byte[] rest = s.inputStream().readAllBytes();
        String all = t + new String(rest, StandardCharsets.ISO_8859_1);
        seen.put("A.length", all.length());
        s.write(ByteBuffer.wrap(("echo:" + all).getBytes(StandardCharsets.ISO_8859_1))).get(30, TimeUnit.SECONDS);
        s.closeWrite().get(30, TimeUnit.SECONDS);
        seen.put("A.state", s.terminated().get(30, TimeUnit.SECONDS));
      } else if (t.equals("R:")) {
        try {
          s.inputStream().readAllBytes();
          seen.put("R.error", "no error");
        } catch (IOException e) {
          seen.put("R.error", e);
        }
      } else {
        throw new AssertionError("unexpected stream tag " + t);
      }
    } catch (Exception e) {
      throw new RuntimeException(e);
    }
  }
}
