// Command baseline is the floor scripts/bench.sh compares sesame with: a Go
// program that prints an environment variable (SESAME_TOKEN) and a newline,
// built with the same flags as sesame.
package main

import "os"

func main() {
	_, _ = os.Stdout.WriteString(os.Getenv("SESAME_TOKEN") + "\n")
}
