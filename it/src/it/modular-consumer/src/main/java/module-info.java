/** A user's application module that depends on Sluice's library modules. */
module com.example.modular {
    requires dev.sluice.pipeline;
    requires dev.sluice.pipeline.grpc;
    requires dev.sluice.pipeline.audit;
    // The user's choice of gRPC transport; the JDBC driver (sqlite-jdbc) needs no requires: DriverManager finds it.
    requires io.grpc.inprocess;
    // For the compile-time proof of the boundary: javac run from the program.
    requires java.compiler;
}
