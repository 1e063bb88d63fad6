package main

// Server-side fixes for the simulator, as this lab's own types (no simulator code is copied):
// a registry handler that sees every snapshot removal task before and after its body runs.
//
//   - TaskInfo.entity of a snapshot task is the VM (the simulator reports the snapshot, which
//     pyVmomi cannot decode as a ManagedEntity).
//   - Removing the current snapshot when it is a root: current is cleared first, so the task
//     body never records a typed nil parent (that panics the simulator).
//   - removeChildren=true (or a removed subtree holding the current snapshot): when the task
//     ends, current points at the removed snapshot's parent (or nothing) if it was inside the
//     removed subtree, and snapshot objects no longer in the tree leave the registry.

import (
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

type removal struct {
	vm      types.ManagedObjectReference
	parent  *types.ManagedObjectReference
	subtree []types.ManagedObjectReference
}

type snapshotFixes struct {
	self     types.ManagedObjectReference
	mu       sync.Mutex
	removals map[types.ManagedObjectReference]removal
}

func installFixes() {
	h := &snapshotFixes{
		self:     types.ManagedObjectReference{Type: "IdmopsSnapshotFixes", Value: "idmops-snapshot-fixes"},
		removals: map[types.ManagedObjectReference]removal{},
	}
	simulator.Map.AddHandler(h)
}

func (h *snapshotFixes) Reference() types.ManagedObjectReference { return h.self }

// findNode returns the tree node of ref and its parent node (nil for a root).
func findNode(nodes []types.VirtualMachineSnapshotTree, ref types.ManagedObjectReference,
	parent *types.VirtualMachineSnapshotTree) (*types.VirtualMachineSnapshotTree, *types.VirtualMachineSnapshotTree) {
	for i := range nodes {
		if nodes[i].Snapshot == ref {
			return &nodes[i], parent
		}
		if n, p := findNode(nodes[i].ChildSnapshotList, ref, &nodes[i]); n != nil {
			return n, p
		}
	}
	return nil, nil
}

func collect(node types.VirtualMachineSnapshotTree, into *[]types.ManagedObjectReference) {
	*into = append(*into, node.Snapshot)
	for _, c := range node.ChildSnapshotList {
		collect(c, into)
	}
}

func (h *snapshotFixes) PutObject(obj mo.Reference) {
	task, ok := obj.(*simulator.Task)
	if !ok || task.Info.Entity == nil || task.Info.Entity.Type != "VirtualMachineSnapshot" {
		return
	}
	snap, ok := simulator.Map.Get(*task.Info.Entity).(*simulator.VirtualMachineSnapshot)
	if !ok {
		return
	}
	vmRef := snap.Vm
	task.Info.Entity = &vmRef
	vm, ok := simulator.Map.Get(vmRef).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	task.Info.EntityName = vm.Name
	if task.Info.DescriptionId != "VirtualMachineSnapshot.removeSnapshot" {
		return
	}
	simulator.Map.WithLock(vm, func() {
		if vm.Snapshot == nil {
			return
		}
		node, parent := findNode(vm.Snapshot.RootSnapshotList, snap.Self, nil)
		if node == nil {
			return
		}
		r := removal{vm: vmRef}
		if parent != nil {
			p := parent.Snapshot
			r.parent = &p
		}
		collect(*node, &r.subtree)
		h.mu.Lock()
		h.removals[task.Self] = r
		h.mu.Unlock()
		cur := vm.Snapshot.CurrentSnapshot
		if parent == nil && cur != nil && *cur == snap.Self {
			simulator.Map.Update(vm, []types.PropertyChange{{Name: "snapshot.currentSnapshot", Val: nil}})
		}
	})
}

func (h *snapshotFixes) UpdateObject(obj mo.Reference, changes []types.PropertyChange) {
	task, ok := obj.(*simulator.Task)
	if !ok {
		return
	}
	finished := false
	for _, c := range changes {
		if c.Name == "info.state" {
			if s, ok := c.Val.(types.TaskInfoState); ok && (s == types.TaskInfoStateSuccess || s == types.TaskInfoStateError) {
				finished = true
			}
		}
	}
	if !finished {
		return
	}
	h.mu.Lock()
	r, ok := h.removals[task.Self]
	delete(h.removals, task.Self)
	h.mu.Unlock()
	if !ok {
		return
	}
	vm, ok := simulator.Map.Get(r.vm).(*simulator.VirtualMachine)
	if !ok {
		return
	}
	var gone []types.ManagedObjectReference
	simulator.Map.WithLock(vm, func() {
		var roots []types.VirtualMachineSnapshotTree
		if vm.Snapshot != nil {
			roots = vm.Snapshot.RootSnapshotList
		}
		for _, ref := range r.subtree {
			if n, _ := findNode(roots, ref, nil); n == nil {
				gone = append(gone, ref)
			}
		}
		if vm.Snapshot != nil && vm.Snapshot.CurrentSnapshot != nil {
			cur := *vm.Snapshot.CurrentSnapshot
			for _, ref := range gone {
				if ref == cur {
					if r.parent != nil {
						simulator.Map.Update(vm, []types.PropertyChange{{Name: "snapshot.currentSnapshot", Val: *r.parent}})
					} else {
						simulator.Map.Update(vm, []types.PropertyChange{{Name: "snapshot.currentSnapshot", Val: nil}})
					}
					break
				}
			}
		}
	})
	for _, ref := range gone {
		if simulator.Map.Get(ref) != nil {
			simulator.Map.Remove(ref)
		}
	}
}

func (h *snapshotFixes) RemoveObject(types.ManagedObjectReference) {}
