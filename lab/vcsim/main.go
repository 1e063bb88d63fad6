// Command vcsim runs the govmomi vCenter simulator (Debian's golang-github-vmware-govmomi-dev)
// for the idmops.lifecycle lab: a VPX model whose VMs carry the lab's names, served with TLS on
// 127.0.0.1. The URL (without credentials) is written to -url-file once the server answers.
// It stops on SIGTERM or SIGINT. The credentials come from the environment (VCSIM_USERNAME,
// VCSIM_PASSWORD), never from the command line. Build with lab/vcsim/build.sh.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
)

func main() {
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (0 picks a free one)")
	vmList := flag.String("vms", "am1,am2,am3,vidm1,vidm2,vidm3", "comma-separated VM names")
	urlFile := flag.String("url-file", "", "file that receives the SDK URL once serving")
	flag.Parse()

	names := []string{}
	for _, n := range strings.Split(*vmList, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	username := envOr("VCSIM_USERNAME", "user")
	password := envOr("VCSIM_PASSWORD", "pass")

	model := simulator.VPX()
	// VPX has two resource pools with Machine VMs each: enough for every name.
	model.Machine = (len(names) + 1) / 2
	if model.Machine < 1 {
		model.Machine = 1
	}
	if err := model.Create(); err != nil {
		log.Fatalf("vcsim: model: %v", err)
	}
	defer model.Remove()
	installFixes()

	model.Service.TLS = new(tls.Config)
	model.Service.Listen = &url.URL{
		Host: fmt.Sprintf("127.0.0.1:%d", *port),
		User: url.UserPassword(username, password),
	}
	server := model.Service.NewServer()
	defer server.Close()

	if err := renameVMs(server.URL, names); err != nil {
		log.Fatalf("vcsim: naming VMs: %v", err)
	}

	public := *server.URL
	public.User = nil
	if *urlFile != "" {
		tmp := *urlFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(public.String()+"\n"), 0o600); err != nil {
			log.Fatalf("vcsim: %v", err)
		}
		if err := os.Rename(tmp, *urlFile); err != nil {
			log.Fatalf("vcsim: %v", err)
		}
	}
	log.Printf("vcsim: serving %s with VMs %s", public.String(), strings.Join(names, ","))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	sig := <-stop
	log.Printf("vcsim: %v, stopping", sig)
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

// renameVMs gives the first len(names) VMs (in name order) the lab's names, through the API.
func renameVMs(u *url.URL, names []string) error {
	ctx := context.Background()
	c, err := govmomi.NewClient(ctx, u, true)
	if err != nil {
		return err
	}
	defer func() { _ = c.Logout(ctx) }()

	var refs []mo.Reference
	for _, obj := range simulator.Map.All("VirtualMachine") {
		refs = append(refs, obj)
	}
	sort.Slice(refs, func(i, j int) bool {
		return refs[i].(*simulator.VirtualMachine).Name < refs[j].(*simulator.VirtualMachine).Name
	})
	if len(refs) < len(names) {
		return fmt.Errorf("model has %d VMs, %d names given", len(refs), len(names))
	}
	for i, name := range names {
		vm := object.NewVirtualMachine(c.Client, refs[i].Reference())
		task, err := vm.Rename(ctx, name)
		if err != nil {
			return err
		}
		if err := task.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}
