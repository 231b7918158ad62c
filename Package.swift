// swift-tools-version:6.0
import PackageDescription

let grdb = Target.Dependency.product(name: "GRDB", package: "GRDB.swift")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "Liaison",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "liaison", targets: ["liaison"]),
        .executable(name: "liaison-counter", targets: ["liaison-counter"]),
        .executable(name: "liaison-ingest", targets: ["liaison-ingest"]),
        .executable(name: "liaison-enrich", targets: ["liaison-enrich"]),
        .executable(name: "liaison-rules", targets: ["liaison-rules"]),
        .executable(name: "liaison-notifier", targets: ["liaison-notifier"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(name: "LiaisonStage"),
        .target(name: "LiaisonSchema"),
        .target(name: "LiaisonKafka", dependencies: ["CRdKafka", "LiaisonStage", logging]),
        .target(name: "LiaisonStore", dependencies: ["LiaisonStage", grdb]),
        .target(
            name: "LiaisonRuntime",
            dependencies: [
                "LiaisonStage", "LiaisonSchema", "LiaisonKafka", "LiaisonStore", grdb, logging, argumentParser,
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(name: "Ingest", dependencies: ["LiaisonStage", "LiaisonSchema", .product(name: "Yams", package: "Yams")]),
        .executableTarget(
            name: "liaison-ingest",
            dependencies: ["Ingest", "LiaisonRuntime", "LiaisonSchema", "LiaisonStore", argumentParser]
        ),
        .target(
            name: "Enrich",
            dependencies: ["LiaisonStage", "LiaisonSchema", .product(name: "Yams", package: "Yams")],
            resources: [.copy("Lexicon")]
        ),
        .target(name: "EnrichStore", dependencies: ["Enrich", "LiaisonSchema", "LiaisonStage", "LiaisonStore", grdb]),
        .executableTarget(
            name: "liaison-enrich",
            dependencies: ["Enrich", "EnrichStore", "LiaisonRuntime", "LiaisonSchema", argumentParser]
        ),
        .target(name: "Rules", dependencies: ["LiaisonStage", "LiaisonSchema", .product(name: "Yams", package: "Yams")]),
        .target(name: "RulesStore", dependencies: ["Rules", "LiaisonSchema", "LiaisonStage", "LiaisonStore", grdb]),
        .executableTarget(
            name: "liaison-rules",
            dependencies: ["Rules", "RulesStore", "LiaisonRuntime", "LiaisonSchema", argumentParser]
        ),
        .target(
            name: "Notifier",
            dependencies: [
                "LiaisonStage", "LiaisonSchema", .product(name: "Mustache", package: "swift-mustache"), .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "NotifierChannels",
            dependencies: [
                "Notifier", "LiaisonSchema", logging,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(name: "NotifierStore", dependencies: ["Notifier", "LiaisonSchema", "LiaisonStage", "LiaisonStore", grdb]),
        .target(
            name: "NotifierRuntime",
            dependencies: [
                "Notifier", "NotifierStore", "NotifierChannels", "LiaisonRuntime", "LiaisonKafka", "LiaisonSchema", "LiaisonStage",
                "LiaisonStore", grdb, logging, .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "LiaisonSinks",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), logging,
            ]
        ),
        .target(name: "LiaisonAudit", dependencies: ["LiaisonSchema", "LiaisonSinks", "LiaisonStage"]),
        .executableTarget(
            name: "liaison-notifier",
            dependencies: ["Notifier", "NotifierRuntime", "LiaisonRuntime", "LiaisonSchema", argumentParser]
        ),
        .target(name: "LiaisonDemo", dependencies: ["LiaisonSchema"]),
        .target(name: "Counter", dependencies: ["LiaisonStage"]),
        .target(name: "CounterStore", dependencies: ["Counter", "LiaisonStore", grdb]),
        .executableTarget(
            name: "liaison-counter",
            dependencies: ["Counter", "CounterStore", "LiaisonRuntime", argumentParser]
        ),
        .executableTarget(
            name: "liaison",
            dependencies: [
                "Counter", "Ingest", "Enrich", "EnrichStore", "Rules", "RulesStore", "Notifier", "NotifierRuntime", "NotifierStore", "LiaisonSinks", "LiaisonDemo",
                "LiaisonAudit", "LiaisonRuntime", "LiaisonKafka", "LiaisonSchema", "LiaisonStore", grdb, argumentParser, logging,
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "LiaisonStoreTests", dependencies: ["LiaisonStore", grdb]),
        .testTarget(name: "LiaisonKafkaTests", dependencies: ["LiaisonKafka"]),
        .testTarget(name: "CounterTests", dependencies: ["Counter"]),
        .testTarget(name: "LiaisonSchemaTests", dependencies: ["LiaisonSchema"]),
        .target(name: "SchemaChecking", path: "Tests/SchemaChecking"),
        .testTarget(
            name: "IngestTests", dependencies: ["Ingest", "LiaisonSchema", "LiaisonStage", "SchemaChecking"], resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "EnrichTests", dependencies: ["Enrich", "EnrichStore", "LiaisonSchema", "LiaisonStage", "LiaisonStore", "SchemaChecking", grdb]
        ),
        .testTarget(
            name: "RulesTests",
            dependencies: [
                "Rules", "RulesStore", "LiaisonSchema", "LiaisonStage", "LiaisonStore", "SchemaChecking", grdb,
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .testTarget(
            name: "NotifierTests",
            dependencies: ["Notifier", "NotifierStore", "LiaisonSchema", "LiaisonStage", "LiaisonStore", "SchemaChecking", grdb]
        ),
        .testTarget(
            name: "NotifierChannelsTests",
            dependencies: [
                "NotifierChannels", "Notifier", "LiaisonSchema", "LiaisonSinks",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Servers"]
        ),
        .testTarget(
            name: "LiaisonDemoTests",
            dependencies: ["LiaisonDemo", "Ingest", "Enrich", "LiaisonSchema", "LiaisonStage", "SchemaChecking", .product(name: "Yams", package: "Yams")]
        ),
        .testTarget(name: "LiaisonAuditTests", dependencies: ["LiaisonAudit", "LiaisonSchema", "LiaisonSinks", "LiaisonStage"]),
        .testTarget(name: "LiaisonRuntimeTests", dependencies: ["LiaisonRuntime", "Counter", "CounterStore", "LiaisonKafka", "LiaisonSchema", grdb, logging]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "LiaisonKafka", "LiaisonStage", "LiaisonSchema", "LiaisonRuntime", "Counter", "CounterStore", "Ingest", "Enrich",
                "LiaisonSinks", "LiaisonDemo", "Notifier", "NotifierRuntime", "NotifierStore", "SchemaChecking", grdb, logging,
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ]
)
