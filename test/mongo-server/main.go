// Command mongo-server runs FerretDB v1 (MongoDB wire protocol over SQLite) for the test suites.
// FerretDB's own command cannot be `go install`ed here, so we embed its library package instead.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("dir", "", "directory for the SQLite databases (required)")
	flag.Parse()
	if *dir == "" {
		log.Fatal("mongo-server: -dir is required")
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		log.Fatalf("mongo-server: %v", err)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *addr},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/",
	})
	if err != nil {
		log.Fatalf("mongo-server: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	fmt.Printf("mongo-server listening on %s\n", *addr)
	if err := <-done; err != nil && ctx.Err() == nil {
		log.Fatalf("mongo-server: %v", err)
	}
}
