package dev.braid.transport.quic.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import tech.kwik.agent15.TlsConstants;
import tech.kwik.agent15.engine.ClientMessageSender;
import tech.kwik.agent15.engine.TlsStatusEventHandler;
import tech.kwik.agent15.engine.TlsClientEngine;
import tech.kwik.core.QuicClientConnection;
import tech.kwik.core.frame.CryptoFrame;
import tech.kwik.core.frame.PingFrame;
import tech.kwik.core.impl.Version;
import tech.kwik.core.packet.InitialPacket;

/**
 * Kwik0108 section 15: agent15 sends the ClientHello before it waits for the ServerHello, and the client's tap holds the
 * server's first handshake packet until it does. {@code QuicHandshakeRaceTest} is the same fault end to end.
 */
@Timeout(60)
class KwikHelloGateTest {
  /** The fault itself; when this fails, agent15 sets its status before sending and section 15 can go. */
  @Test
  void agent15SendsTheClientHelloBeforeItWaitsForTheServerHello() throws Exception {
    CompletableFuture<String> statusWhileSending = new CompletableFuture<>();
    TlsClientEngine[] engine = new TlsClientEngine[1];
    ClientMessageSender sender = (ClientMessageSender) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {ClientMessageSender.class}, (proxy, method, args) -> {
          if (method.getName().equals("send")) {
            statusWhileSending.complete(status(engine[0]));
          }
          return null;
        });
    TlsStatusEventHandler events = (TlsStatusEventHandler) Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {TlsStatusEventHandler.class}, (proxy, method, args) -> null);
    // the implementation class is in a package agent15 does not export (tests run on the class path)
    engine[0] = (TlsClientEngine) Class.forName("tech.kwik.agent15.engine.impl.TlsClientEngineImpl")
        .getConstructor(ClientMessageSender.class, TlsStatusEventHandler.class).newInstance(sender, events);
    engine[0].setServerName("localhost");
    engine[0].addSupportedCiphers(List.of(TlsConstants.CipherSuite.TLS_AES_128_GCM_SHA256));
    engine[0].startHandshake(TlsConstants.NamedGroup.secp256r1,
        List.of(TlsConstants.SignatureScheme.ecdsa_secp256r1_sha256));
    assertEquals("Start", statusWhileSending.get(5, TimeUnit.SECONDS),
        "agent15's status while its ClientHello goes out (a ServerHello processed now is dropped)");
    assertEquals("WaitServerHello", status(engine[0]));
  }

  @Test
  void theServersFirstHandshakePacketWaitsUntilAgent15IsReady() throws Exception {
    QuicClientConnection kwik = unconnectedClient();
    Kwik0108.HelloGate gate = Kwik0108.HelloGate.of(kwik);
    assertNotSame(Kwik0108.HelloGate.OPEN, gate, "the gate sees agent15's status");
    assertFalse(gate.passed());

    // a packet without a CRYPTO frame goes straight through
    gate.hold(new InitialPacket(Version.getDefault(), new byte[8], new byte[8], null, new PingFrame()));
    assertFalse(gate.passed());

    CompletableFuture<Void> held = CompletableFuture.runAsync(() -> gate.hold(new InitialPacket(Version.getDefault(),
        new byte[8], new byte[8], null, new CryptoFrame(Version.getDefault(), new byte[] {2}))));
    // bounded wait for the observable condition: the ServerHello is being held (the future is not done while Start)
    Object engine = engine(kwik);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    while (System.nanoTime() < deadline) {
      assertFalse(held.isDone(), "the gate let the ServerHello through while agent15 was still in Start");
      Thread.onSpinWait();
    }
    setStatus(engine, "WaitServerHello");
    held.get(5, TimeUnit.SECONDS);
    assertTrue(gate.passed());
    kwik.close();
  }

  private static QuicClientConnection unconnectedClient() throws Exception {
    return QuicClientConnection.newBuilder().host("127.0.0.1").port(9).applicationProtocol("braid/1")
        .noServerCertificateCheck().connectTimeout(Duration.ofSeconds(1)).build();
  }

  private static Object engine(QuicClientConnection kwik) throws Exception {
    for (Class<?> c = kwik.getClass(); c != null; c = c.getSuperclass()) {
      try {
        Field f = c.getDeclaredField("tlsEngine");
        f.setAccessible(true);
        return f.get(kwik);
      } catch (NoSuchFieldException notHere) {
        // the superclass
      }
    }
    throw new AssertionError("no tlsEngine in " + kwik.getClass());
  }

  private static String status(Object engine) throws Exception {
    Field f = engine.getClass().getDeclaredField("status");
    f.setAccessible(true);
    return ((Enum<?>) f.get(engine)).name();
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static void setStatus(Object engine, String name) throws Exception {
    Field f = engine.getClass().getDeclaredField("status");
    f.setAccessible(true);
    f.set(engine, Enum.valueOf((Class) f.getType(), name));
  }
}
