package main

import (
	"fmt"
	"io"

	"github.com/acronis-autotask/acronis-autotask/internal/config"
)

func printHelp(w io.Writer) {
	fmt.Fprint(w, usage)
	fmt.Fprintln(w, "\nenvironment:")
	for _, v := range config.Variables {
		def := v.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(w, "  %-26s %-18s %s\n", v.Name, def, v.Meaning)
	}
}
