package dev.braid.transport.webrtc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.braid.transport.webrtc.internal.SignalingServer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;

/**
 * Arbitrary bytes into the signaling endpoint's request handling (the same handlers every accepted
 * connection runs): no exception reaches the end of the pipeline, every response is a well-formed 2xx/4xx/5xx,
 * and the offer handler only ever sees bodies that passed the endpoint's checks.
 *
 * <p>Every build replays the saved inputs ({@code SignalingFuzzTestInputs/arbitraryRequests/}) in the normal
 * test run (where {@code @Timeout} bounds each), then fuzzes in the pom's {@code fuzz} Surefire execution
 * ({@code JAZZER_FUZZ=1}) up to {@code maxExecutions} inputs or {@code maxDuration}, whichever comes first;
 * {@code -Pfuzz} fuzzes 10 minutes. A finding fails the build and is saved to that directory.
 * {@code @Timeout} is also the per-input hang bound while fuzzing: Jazzer hands it to libFuzzer
 * ({@code -timeout}), and the fuzz execution turns JUnit's own timeouts off so that it does not bound the
 * whole run.
 */
class SignalingFuzzTest {
  private static final SignalingServer.Settings SETTINGS =
      new SignalingServer.Settings("/braid", 64 * 1024, "secret-token", null);

  @Timeout(value = 10, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  @FuzzTest(maxExecutions = 200_000, maxDuration = "30s")
  void arbitraryRequests(byte[] input) {
    runOne(input);
    // The same bytes behind a valid request line and headers, so the fuzzer also reaches the endpoint's own
    // checks (content type, token, SDP) and not only Netty's HTTP decoder.
    String head = "POST /braid HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\nAuthorization: Bearer secret-token\r\n"
        + "Content-Length: " + input.length + "\r\n\r\n";
    byte[] framed = new byte[head.length() + input.length];
    System.arraycopy(head.getBytes(StandardCharsets.US_ASCII), 0, framed, 0, head.length());
    System.arraycopy(input, 0, framed, head.length(), input.length);
    runOne(framed);
  }

  private static void runOne(byte[] bytes) {
    EmbeddedChannel ch = new EmbeddedChannel();
    SignalingServer.addHttpHandlers(ch.pipeline(), SETTINGS, (sdp, remote) -> {
      assertTrue(sdp.length() <= SETTINGS.maxBodyBytes(), "the handler only sees bodies within the limit");
      return CompletableFuture.completedFuture("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
    });
    ByteBuf in = Unpooled.wrappedBuffer(bytes);
    ch.writeInbound(in);
    ch.runPendingTasks();
    ch.checkException(); // an exception that reached the tail of the pipeline fails the fuzz run
    Object out;
    while ((out = ch.readOutbound()) != null) {
      try {
        if (out instanceof HttpResponse) {
          int code = ((HttpResponse) out).status().code();
          assertTrue(code >= 200 && code < 600, "status " + code);
        } else {
          assertTrue(out instanceof ByteBuf || out instanceof io.netty.handler.codec.http.HttpContent
              || out instanceof FullHttpResponse, "unexpected outbound " + out.getClass());
        }
      } finally {
        ReferenceCountUtil.release(out);
      }
    }
    ch.finishAndReleaseAll();
  }
}
