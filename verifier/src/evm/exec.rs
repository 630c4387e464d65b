//! An in-process EVM (revm, Shanghai rules — those EZKL's gas figures were measured
//! under) to deploy contracts and call them.

use revm::context::result::{ExecutionResult, Output};
use revm::context::TxEnv;
use revm::database::InMemoryDB;
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, TxKind};
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext};

use super::EvmError;

/// What a call did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallOutcome {
    /// Whether it returned (rather than reverted or halted).
    pub success: bool,
    /// Gas of the whole transaction (intrinsic, calldata and execution).
    pub gas_used: u64,
    /// Returned or revert data.
    pub output: Vec<u8>,
}

type MainEvm = revm::handler::MainnetEvm<revm::handler::MainnetContext<InMemoryDB>>;

/// A chain with one externally owned account that deploys and calls.
pub struct Evm {
    evm: MainEvm,
    nonce: u64,
}

impl Default for Evm {
    fn default() -> Self {
        Self::new()
    }
}

impl Evm {
    /// An empty chain with Shanghai rules (EIP-170's code-size limit included).
    pub fn new() -> Self {
        let ctx =
            Context::mainnet().with_db(InMemoryDB::default()).modify_cfg_chained(|cfg| cfg.spec = SpecId::SHANGHAI);
        Evm { evm: ctx.build_mainnet(), nonce: 0 }
    }

    /// An empty chain without the code-size limit, to measure contracts that
    /// exceed it.
    pub fn without_size_limit() -> Self {
        let ctx = Context::mainnet().with_db(InMemoryDB::default()).modify_cfg_chained(|cfg| {
            cfg.spec = SpecId::SHANGHAI;
            cfg.limit_contract_code_size = Some(usize::MAX);
        });
        Evm { evm: ctx.build_mainnet(), nonce: 0 }
    }

    /// The account that sends every transaction.
    pub fn caller(&self) -> Address {
        TxEnv::default().caller
    }

    fn transact(&mut self, kind: TxKind, data: Vec<u8>) -> Result<ExecutionResult, EvmError> {
        let tx = TxEnv { gas_limit: 30_000_000, kind, data: data.into(), nonce: self.nonce, ..Default::default() };
        self.nonce += 1;
        self.evm.transact_commit(tx).map_err(|e| EvmError::Deploy(format!("{e:?}")))
    }

    /// Deploys creation code; returns the address and the runtime code's size.
    pub fn deploy(&mut self, creation: Vec<u8>) -> Result<(Address, usize), EvmError> {
        match self.transact(TxKind::Create, creation)? {
            ExecutionResult::Success { output: Output::Create(code, Some(address)), .. } => Ok((address, code.len())),
            other => Err(EvmError::Deploy(format!("{other:?}"))),
        }
    }

    /// Calls `to` with `calldata`.
    pub fn call(&mut self, to: Address, calldata: Vec<u8>) -> Result<CallOutcome, EvmError> {
        Ok(match self.transact(TxKind::Call(to), calldata)? {
            ExecutionResult::Success { gas_used, output, .. } => {
                CallOutcome { success: true, gas_used, output: output.data().to_vec() }
            }
            ExecutionResult::Revert { gas_used, output } => {
                CallOutcome { success: false, gas_used, output: output.to_vec() }
            }
            ExecutionResult::Halt { gas_used, .. } => CallOutcome { success: false, gas_used, output: Vec::new() },
        })
    }
}
