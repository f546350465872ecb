package dev.braid.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.Listener;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import dev.braid.Transport;
import dev.braid.TransportOptions;
import dev.braid.conformance.reference.MemTransportProvider;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A stream's life shows in a JFR recording: open, every transition, and close with bytes and duration. */
class JfrEventsTest {
  @TempDir
  Path tmp;

  @Test
  void streamOpenTransitionsAndCloseAreRecorded() throws Exception {
    MemTransportProvider p = new MemTransportProvider();
    Path file = tmp.resolve("braid.jfr");
    long streamId;
    long connectionId;
    try (Recording rec = new Recording()) {
      rec.enable("dev.braid.StreamOpen");
      rec.enable("dev.braid.StreamTransition");
      rec.enable("dev.braid.StreamClose").withThreshold(java.time.Duration.ZERO);
      rec.start();
      try (Transport t = p.create(TransportOptions.DEFAULTS); Listener l = t.listen(p.testListenAddress())) {
        CompletableFuture<Connection> accepted = l.accept();
        Connection c = t.dial(l.address()).get(10, TimeUnit.SECONDS);
        Connection s = accepted.get(10, TimeUnit.SECONDS);
        CompletableFuture<MuxedStream> in = s.acceptStream();
        MuxedStream out = c.openStream().get(10, TimeUnit.SECONDS);
        streamId = out.id();
        connectionId = ((dev.braid.spi.AbstractConnection) c).connectionId();
        out.write(ByteBuffer.wrap(new byte[1234])).get(10, TimeUnit.SECONDS);
        out.closeWrite().get(10, TimeUnit.SECONDS);
        MuxedStream peer = in.get(10, TimeUnit.SECONDS);
        assertEquals(1234, Kit.readToEnd(peer, 1234).length);
        peer.close();
        Kit.readToEnd(out, 0);
        assertEquals(StreamState.CLOSED, out.terminated().get(10, TimeUnit.SECONDS));
        c.close();
        s.close();
      }
      rec.stop();
      rec.dump(file);
    }
    List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
        .filter(e -> e.getEventType().getName().startsWith("dev.braid.") && e.getLong("stream") == streamId
            && e.getLong("connection") == connectionId) // not a stream of another connection in this JVM
        .collect(Collectors.toList());
    List<String> names = events.stream().map(e -> e.getEventType().getName()).collect(Collectors.toList());
    assertTrue(names.contains("dev.braid.StreamOpen"), names.toString());
    assertTrue(names.contains("dev.braid.StreamTransition"), names.toString());
    RecordedEvent close = events.stream().filter(e -> e.getEventType().getName().equals("dev.braid.StreamClose"))
        .findFirst().orElseThrow(() -> new AssertionError(names.toString()));
    assertEquals("CLOSED", close.getString("state"));
    assertTrue(close.getLong("bytesWritten") == 1234 || close.getLong("bytesRead") == 1234, close.toString());
    assertTrue(!close.getDuration().isNegative());
    List<String> transitions = events.stream().filter(e -> e.getEventType().getName().equals("dev.braid.StreamTransition"))
        .map(e -> e.getString("from") + "->" + e.getString("to")).collect(Collectors.toList());
    assertTrue(transitions.contains("OPEN->WRITE_CLOSED") || transitions.contains("OPENING->OPEN"), transitions.toString());
  }
}
