package dev.braid.conformance;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.TransportOptions;
import java.net.URI;
import java.util.Objects;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A fixture that changes one or two things of another (usually {@link TransportFixture#of}) and forwards the
 * rest: override what differs (say {@link #kill(Connection)} or {@link #connect()}) and {@link #rewrap}, which
 * wraps a rebuilt delegate (the kit's limit, route and kill rules rebuild fixtures) in a fixture like this one.
 *
 * <pre>{@code
 * final class MyFixture extends ForwardingFixture {
 *   MyFixture(TransportFixture delegate) { super(delegate); }
 *   @Override protected TransportFixture rewrap(TransportFixture rebuilt) { return new MyFixture(rebuilt); }
 *   @Override public void kill(Connection c) { ... cut the path, then c.abort(...) ... }
 * }
 * }</pre>
 *
 * <p>Not thread-safe, like every kit fixture.
 */
public abstract class ForwardingFixture implements TransportFixture {
  private final TransportFixture delegate;

  /** @param delegate the fixture everything not overridden is forwarded to */
  protected ForwardingFixture(TransportFixture delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  /** The fixture everything is forwarded to. */
  protected final TransportFixture delegate() {
    return delegate;
  }

  /** A fixture like this one over {@code rebuilt} (never null). */
  protected abstract TransportFixture rewrap(TransportFixture rebuilt);

  private TransportFixture rewrapOrNull(TransportFixture rebuilt) {
    return rebuilt == null ? null : rewrap(rebuilt);
  }

  @Override
  public ConnectionPair connect() throws Exception {
    return delegate.connect();
  }

  @Override
  public Set<Capability> capabilities() {
    return delegate.capabilities();
  }

  @Override
  public String transportId() {
    return delegate.transportId();
  }

  @Override
  public Set<String> sharedThreadPrefixes() {
    return delegate.sharedThreadPrefixes();
  }

  @Override
  public TransportFixture killable() {
    return rewrapOrNull(delegate.killable());
  }

  @Override
  public void kill(Connection c) {
    delegate.kill(c);
  }

  @Override
  public TransportFixture withOptions(TransportOptions options) {
    return rewrapOrNull(delegate.withOptions(options));
  }

  @Override
  public TransportFixture withOptions(TransportOptions dialer, TransportOptions listener) {
    return rewrapOrNull(delegate.withOptions(dialer, listener));
  }

  @Override
  public TransportFixture withDialRoute(UnaryOperator<URI> route) {
    return rewrapOrNull(delegate.withDialRoute(route));
  }

  @Override
  public void close() throws Exception {
    delegate.close();
  }
}
