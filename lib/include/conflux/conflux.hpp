#pragma once
// Conflux: Redux for distributed systems. Declare methods (action creators)
// and a reducer; perform() runs a method on the leader, replicates its
// action through Raft and completes once the action is committed.

#include <conflux/errors.hpp>
#include <conflux/node.hpp>
#include <conflux/options.hpp>
#include <conflux/typed.hpp>
#include <conflux/version.hpp>
