/**
 * The reference transport: an in-memory transport ({@code mem://}) that passes every rule of the kit,
 * with deliberate {@link dev.braid.conformance.reference.Breakage}s that the kit's self-tests must catch.
 */
package dev.braid.conformance.reference;
