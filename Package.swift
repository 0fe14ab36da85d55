// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
]
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
/// Every module of ours, for the test targets.
let modules: [Target.Dependency] = ["MemifyCore", "GraphStore", "SessionCache", "Extraction", "Pipeline", "MemifyTools"]

let package = Package(
    name: "memify-worker",
    platforms: [.macOS(.v15)],  // Linux is the target; this only lets macOS builds use Mutex
    products: [.executable(name: "memify-worker", targets: ["MemifyWorker"])],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"]), .brew(["libpq"])]),
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),
        // Redis over TLS (RedisTransport); plain TCP and unix sockets need no library.
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"]), .brew(["openssl@3"])]),
        // The executable's allocator: glibc's malloc made decoding and row building half again as slow.
        .systemLibrary(name: "CJemalloc", pkgConfig: "jemalloc", providers: [.apt(["libjemalloc-dev"]), .brew(["jemalloc"])]),
        .target(name: "MemifyAllocator", dependencies: ["CJemalloc"], linkerSettings: [.linkedLibrary("jemalloc")]),
        // JSON strings' plain runs copied with AVX-512/AVX2 where the CPU has them (chosen at load).
        .target(name: "CScan"),
        // SIGINT/SIGTERM noted from before main on, so a run stops cleanly however early one comes.
        .target(name: "CSignals"),
        // The version and the commit --version prints. scripts/package sets MEMIFY_COMMIT; as a
        // define of this target alone, a new commit recompiles one C file, not the package.
        .target(name: "CBuildInfo",
                cSettings: Context.environment["MEMIFY_COMMIT"].map { [.define("MEMIFY_COMMIT", to: "\"\($0)\"")] } ?? []),
        // Modules by job; each may import only those above it (scripts/check-imports enforces it).
        .target(name: "MemifyCore", dependencies: ["CLibPQ", "CSQLite3", "CScan", logging], swiftSettings: strict),
        .target(name: "GraphStore", dependencies: ["MemifyCore", logging], swiftSettings: strict),
        .target(name: "SessionCache", dependencies: ["MemifyCore", "COpenSSL", logging], swiftSettings: strict),
        .target(name: "Extraction", dependencies: ["MemifyCore", "GraphStore", "SessionCache", logging], swiftSettings: strict),
        .target(name: "Pipeline", dependencies: ["MemifyCore", "GraphStore", "SessionCache", "Extraction", logging],
                swiftSettings: strict),
        .target(name: "MemifyTools", dependencies: ["MemifyCore", "GraphStore", "SessionCache", "Extraction", "Pipeline"],
                swiftSettings: strict),
        .executableTarget(
            name: "MemifyWorker",
            dependencies: modules + ["CScan", "CSignals", "CBuildInfo", "MemifyAllocator", logging, .product(name: "ArgumentParser", package: "swift-argument-parser"),
                                     .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                     .product(name: "UnixSignals", package: "swift-service-lifecycle")],
            swiftSettings: strict),
        .target(name: "TestSupport", dependencies: modules, path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "GraphStoreTests", dependencies: modules + ["CScan", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "PipelineTests", dependencies: modules + ["TestSupport"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: modules + ["TestSupport"], swiftSettings: strict),
    ]
)
