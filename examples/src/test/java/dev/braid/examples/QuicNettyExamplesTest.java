package dev.braid.examples;

import java.util.List;

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
}
