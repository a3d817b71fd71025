/**
 * Sluice's core: {@link dev.sluice.pipeline.Channel}s for blocking code, structured {@link dev.sluice.pipeline.Scope}s,
 * and {@link dev.sluice.pipeline.Pipeline}s that run each stage on a virtual thread with bounded links between them.
 *
 * <p>Nullness: everything here is non-null unless annotated {@code @Nullable} (JSpecify's {@code @NullMarked}).
 * What is stable and what is incubating: {@code docs/compatibility.md}.
 *
 * @since 0.1
 */
@NullMarked
package dev.sluice.pipeline;

import org.jspecify.annotations.NullMarked;
