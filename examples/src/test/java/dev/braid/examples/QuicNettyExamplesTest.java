package dev.braid.examples;

import java.util.List;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/** The examples over {@code quic://} with the second QUIC implementation, picked by id ({@code --transport quic-netty}). */
class QuicNettyExamplesTest extends ExamplesSuite {
  @Override
  String transportId() {
    return "quic-netty";
  }

  @Override
  List<String> transportArgs() {
    return List.of("--transport", "quic-netty");
  }

  /**
   * Disabled: a known failure of kit rule H9 for quic-netty (transport-quic-netty/README.md, "Known failures").
   * quiche frees a stream whose data was acknowledged while its FIN, written after the data, still waited to be sent
   * (cloudflare/quiche#2525), so the client sometimes gets every answer byte but never the end-of-stream. The fix
   * (quiche PR #2665) is in no Netty native library available here (4.2.18 is the newest).
   */
  @Test
  @Disabled("known failure of kit rule H9 for quic-netty: cloudflare/quiche#2525 (quiche frees a stream whose data was "
      + "acknowledged before its FIN was sent; the fix is in no Netty native library here)")
  @Override
  void echoServiceAnswersSixtyFourConcurrentStreamsCorrectly() {
  }
}
