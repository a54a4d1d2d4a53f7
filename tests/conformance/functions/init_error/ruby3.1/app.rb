# frozen_string_literal: true

raise 'configuration missing at import'
