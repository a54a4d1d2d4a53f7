# frozen_string_literal: true

# The conformance app: one operation per event['op'] (see tests/conformance/test_runtimes.py).
$invocations = 0
STARTED_AT = Time.now.to_f

def handler(event:, context:)
  $invocations += 1
  op = event.is_a?(Hash) ? event['op'] : nil
  case op
  when 'types'
    [:a_symbol, nil, 1.5, 2**70, { key: :value }]
  when 'context'
    {
      'awsRequestId' => context.aws_request_id,
      'functionName' => context.function_name,
      'functionVersion' => context.function_version,
      'memoryLimitInMB' => context.memory_limit_in_mb.to_s,
      'invokedFunctionArn' => context.invoked_function_arn,
      'logGroupName' => context.log_group_name,
      'logStreamName' => context.log_stream_name,
      'remainingMs' => context.get_remaining_time_in_millis
    }
  when 'env'
    event['names'].to_h { |name| [name, ENV[name]] }
  when 'tmp'
    path = File.join('/tmp', event['name'])
    File.write(path, event['text'])
    text = File.read(path, encoding: 'UTF-8')
    File.delete(path)
    { 'text' => text }
  when 'count'
    { 'invocations' => $invocations, 'pid' => Process.pid, 'startedAt' => STARTED_AT }
  when 'fail'
    raise ArgumentError, event['message']
  when 'sleep'
    sleep event['seconds']
    'woke up'
  when 'exit'
    exit! 3
  when 'log'
    puts "to stdout #{event['marker']}"
    warn "to stderr #{event['marker']}"
    'logged'
  else
    event
  end
end

module Greeter
  # app.Greeter::Formal.greet: a class method inside a module
  class Formal
    def self.greet(event:, context:)
      { 'form' => 'Module::Class.method', 'name' => event['name'] }
    end
  end
end
